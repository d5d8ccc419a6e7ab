// Reading journal.json and writing report.html, shared by `chaosctl run
// --report-dir` and `chaosctl report`. Errors point at the input:
// "reports/x/journal.json:3:14: invalid JSON: ..." or
// "reports/x/journal.json: verdict.result: missing".
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "common/status.h"
#include "orchestrator/report/report_data.h"

namespace chaos::orchestrator::report {

inline constexpr const char* kReportFileName = "report.html";
// A run of a day with every check every second writes a few tens of MiB.
inline constexpr size_t kMaxJournalBytes = size_t{256} << 20;

StatusOr<Report> load_report(const std::string& journal_path);

// Renders the journal (as written by the run) to HTML; `where` names the
// journal in error messages.
StatusOr<std::string> render_journal(const nlohmann::json& journal, const std::string& where);

}  // namespace chaos::orchestrator::report
