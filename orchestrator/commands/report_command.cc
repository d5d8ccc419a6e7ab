// `chaosctl report DIR [--output FILE]`: re-renders report.html from the
// journal.json that `chaosctl run --report-dir DIR` wrote.
#include <filesystem>
#include <iostream>

#include "orchestrator/commands/command_support.h"
#include "orchestrator/commands/commands.h"
#include "orchestrator/run/journal_json.h"
#include "orchestrator/report/html_report.h"
#include "orchestrator/report/report_files.h"

namespace chaos::orchestrator {

namespace {

struct ReportFlags {
  std::string dir;
  std::string output;  // empty: DIR/report.html
};

int render_report(const ReportFlags& flags) {
  auto report = report::load_report(flags.dir + "/journal.json");
  if (!report.ok()) {
    std::cerr << "chaosctl report: " << report.status().message() << "\n";
    return kExitError;
  }
  const std::filesystem::path output =
      flags.output.empty() ? std::filesystem::path(flags.dir) / report::kReportFileName
                           : std::filesystem::path(flags.output);
  const std::string parent = output.parent_path().empty() ? "." : output.parent_path().string();
  const Status written = write_report_file(parent, output.filename().string(), report::render_report_html(*report));
  if (!written.ok()) {
    std::cerr << "chaosctl report: " << written.message() << "\n";
    return kExitError;
  }
  std::cout << "report: " << output.string() << " (" << report->verdict.result << ", "
            << report->charts.size() << " charts, " << report->faults.size() << " faults)\n";
  return kExitOk;
}

}  // namespace

void add_report_command(CLI::App& app, int& exit_code) {
  auto flags = std::make_shared<ReportFlags>();
  CLI::App* command = app.add_subcommand(
      "report", "Re-render report.html (verdict, SLO timelines, faults, events) from DIR/journal.json");
  command->add_option("dir", flags->dir, "Report directory written by `chaosctl run --report-dir`")->required();
  command->add_option("--output,-o", flags->output, "Write the HTML here instead of DIR/report.html");
  command->callback([flags, &exit_code] { exit_code = render_report(*flags); });
}

}  // namespace chaos::orchestrator
