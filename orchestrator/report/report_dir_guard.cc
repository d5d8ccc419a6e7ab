#include "orchestrator/report/report_dir_guard.h"

#include <array>
#include <cctype>
#include <filesystem>
#include <system_error>

namespace chaos::orchestrator::report {

namespace {

namespace fs = std::filesystem;

constexpr std::array<const char*, 4> kTopLevelReportFiles = {"journal.json", "junit.xml", "report.html", "index.html"};

// A suite's per-experiment directory: "01-kill-one-broker".
bool is_suite_run_dir_name(const std::string& name) {
  return name.size() > 3 && std::isdigit(static_cast<unsigned char>(name[0])) &&
         std::isdigit(static_cast<unsigned char>(name[1])) && name[2] == '-';
}

Status already_holds(const std::string& dir, const std::string& found) {
  return failed_precondition("--report-dir " + dir + " already holds an earlier run's report (" + found +
                             "); it is not replaced silently: choose a new directory, move that one away, or "
                             "pass --replace-report");
}

}  // namespace

Status check_report_dir_unused(const std::string& dir) {
  std::error_code error;
  const fs::file_status status = fs::status(dir, error);
  if (status.type() == fs::file_type::not_found) return {};
  if (error) return failed_precondition("--report-dir " + dir + ": " + error.message());
  if (!fs::is_directory(status)) return failed_precondition("--report-dir " + dir + " exists and is not a directory");
  for (const char* name : kTopLevelReportFiles) {
    const fs::path file = fs::path(dir) / name;
    if (fs::exists(fs::symlink_status(file, error))) return already_holds(dir, file.string());
  }
  // A suite interrupted before it wrote index.html leaves only its run
  // directories. increment(error), not ++: the loop must not throw.
  fs::directory_iterator entry(dir, error);
  for (; !error && entry != fs::directory_iterator(); entry.increment(error)) {
    std::error_code entry_error;
    if (!is_suite_run_dir_name(entry->path().filename().string()) || !entry->is_directory(entry_error)) continue;
    const fs::path journal = entry->path() / "journal.json";
    if (fs::exists(fs::symlink_status(journal, entry_error))) return already_holds(dir, journal.string());
  }
  if (error) return failed_precondition("--report-dir " + dir + ": cannot list it: " + error.message());
  return {};
}

}  // namespace chaos::orchestrator::report
