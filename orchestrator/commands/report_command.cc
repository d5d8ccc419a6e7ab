// `chaosctl report DIR [--output FILE]`: re-renders report.html from the
// journal.json that `chaosctl run --report-dir DIR` wrote.
// `chaosctl report --history [--history FILE]`: the run history's trend page
// (commands/history_support.h).
#include <filesystem>
#include <iostream>

#include "orchestrator/commands/command_support.h"
#include "orchestrator/commands/commands.h"
#include "orchestrator/commands/history_support.h"
#include "orchestrator/run/journal_json.h"
#include "orchestrator/report/html_report.h"
#include "orchestrator/report/report_files.h"

namespace chaos::orchestrator {

namespace {

struct ReportFlags {
  std::string dir;
  std::string output;  // empty: DIR/report.html
  std::string history_file;  // with --history: the database (empty: the default one)
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
      "report", "Re-render report.html (verdict, SLO timelines, faults, events) from DIR/journal.json; "
                "with --history, render the run history's trends per experiment instead");
  command->add_option("dir", flags->dir, "Report directory written by `chaosctl run --report-dir`");
  command->add_option("--output,-o", flags->output,
                      "Write the HTML here instead of DIR/report.html (with --history: history.html)");
  auto* history = command->add_option("--history", flags->history_file,
                                      "Render the run history's trend page instead (of FILE, default: "
                                      "the database `chaosctl run` records to)")
                      ->expected(0, 1);
  command->callback([flags, history, &exit_code] {
    if (history->count() > 0) {
      exit_code = render_history_report(flags->history_file, flags->output);
    } else if (flags->dir.empty()) {
      throw CLI::RequiredError("dir (or --history)");
    } else {
      exit_code = render_report(*flags);
    }
  });
}

}  // namespace chaos::orchestrator
