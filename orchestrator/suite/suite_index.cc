#include "orchestrator/suite/suite_index.h"

#include <sstream>

#include "orchestrator/report/html_text.h"
#include "orchestrator/report/report_files.h"
#include "orchestrator/report/report_style.h"

namespace chaos::orchestrator {

namespace {

using report::escape_html;

double suite_seconds(std::chrono::nanoseconds duration) { return std::chrono::duration<double>(duration).count(); }

void write_suite_row(std::ostream& out, size_t index, const SuiteRunResult& run) {
  const auto verdict = run.verdict();
  const std::string result = verdict ? verdict_name(*verdict) : "not run";
  out << "<tr class=\"run verdict-" << (verdict ? result : "not-run") << "\"><td>" << index + 1 << "</td><td>";
  if (run.state == SuiteRunState::kRan && run.record->started.ok() && !run.record->report_dir.empty()) {
    out << "<a href=\"" << escape_html(run.run_dir + "/" + report::kReportFileName) << "\">"
        << escape_html(run.title) << "</a>";
  } else {
    out << escape_html(run.title);
  }
  out << "</td><td class=\"verdict-result\">" << escape_html(result) << "</td>";
  if (run.state == SuiteRunState::kRan) {
    const RunRecord& record = *run.record;
    out << "<td>" << report::format_seconds(suite_seconds(record.times.finished - record.times.started))
        << "</td><td>"
        << (record.outcome.time_to_recovery
                ? report::format_seconds(suite_seconds(*record.outcome.time_to_recovery))
                : std::string(record.outcome.recovery_measured ? "did not recover" : "-"))
        << "</td><td>" << escape_html(record.outcome.reason) << "</td>";
  } else {
    out << "<td>-</td><td>-</td><td>" << escape_html(run.reason) << "</td>";
  }
  out << "</tr>\n";
}

}  // namespace

std::string render_suite_index(const SuiteOutcome& outcome) {
  std::ostringstream out;
  const std::string worst = verdict_name(outcome.worst);
  out << "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>"
      << escape_html(outcome.title) << ": " << worst << "</title>\n<style>" << report::kReportStyle
      << "tr.run td.verdict-result { font-size: 1em; }\n"
      << "tr.verdict-held td.verdict-result { color: #2e8b47; } tr.verdict-violated td.verdict-result { color: "
         "#c62828; }\n"
      << "tr.verdict-aborted td.verdict-result { color: #b36b00; } tr.verdict-error td.verdict-result { color: "
         "#7b3fa0; }\n"
      << "tr.verdict-not-run td { color: #889; }\n</style>\n</head>\n<body>\n<header><h1>"
      << escape_html(outcome.title) << "</h1></header>\n<main>\n";
  out << "<section id=\"suite-verdict\" class=\"verdict verdict-" << worst << "\">\n<div class=\"verdict-result\">"
      << worst << "</div>\n<div class=\"verdict-meaning\">the worst verdict of " << outcome.runs.size()
      << " experiment(s) (exit " << exit_code(outcome.worst) << ")"
      << (outcome.interrupted ? "; interrupted" : "") << "</div>\n<div>"
      << report::format_timestamp(std::chrono::duration<double>(outcome.started.time_since_epoch()).count())
      << " to "
      << report::format_timestamp(std::chrono::duration<double>(outcome.finished.time_since_epoch()).count())
      << "</div>\n</section>\n";
  out << "<section id=\"runs\">\n<h2>Experiments</h2>\n<table>\n<tr><th>#</th><th>experiment</th><th>verdict</th>"
         "<th>duration</th><th>time to recovery</th><th>reason</th></tr>\n";
  for (size_t i = 0; i < outcome.runs.size(); ++i) write_suite_row(out, i, outcome.runs[i]);
  out << "</table>\n</section>\n</main>\n<footer>chaosctl run: one suite, one report per experiment</footer>\n"
         "</body>\n</html>\n";
  return out.str();
}

}  // namespace chaos::orchestrator
