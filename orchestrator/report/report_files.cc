#include "orchestrator/report/report_files.h"

#include <fstream>
#include <sstream>

#include "orchestrator/report/html_report.h"

namespace chaos::orchestrator::report {

namespace {

// nlohmann reports a byte offset; people want line:column.
std::string line_and_column(const std::string& text, size_t byte) {
  size_t line = 1, column = 1;
  for (size_t i = 0; i < text.size() && i + 1 < byte; ++i) {
    if (text[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  return std::to_string(line) + ":" + std::to_string(column);
}

}  // namespace

StatusOr<Report> load_report(const std::string& journal_path) {
  std::ifstream in(journal_path, std::ios::binary);
  if (!in) return not_found(journal_path + ": cannot open the journal (is this a --report-dir of chaosctl run?)");
  std::stringstream buffer;
  buffer << in.rdbuf();
  const std::string text = buffer.str();
  nlohmann::json journal;
  try {
    journal = nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& error) {
    std::string what = error.what();
    const size_t detail = what.find("syntax error");
    if (detail != std::string::npos) what = what.substr(detail);
    return invalid_argument(journal_path + ":" + line_and_column(text, error.byte) + ": invalid JSON: " + what);
  }
  auto report = parse_report(journal);
  if (!report.ok()) return invalid_argument(journal_path + ": " + report.status().message());
  return report;
}

StatusOr<std::string> render_journal(const nlohmann::json& journal, const std::string& where) {
  auto report = parse_report(journal);
  if (!report.ok()) return invalid_argument(where + ": " + report.status().message());
  return render_report_html(*report);
}

}  // namespace chaos::orchestrator::report
