#include "orchestrator/report/report_files.h"

#include <filesystem>
#include <fstream>

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
  const auto cannot_open = [&journal_path] {
    return not_found(journal_path + ": cannot open the journal (is this a --report-dir of chaosctl run?)");
  };
  std::error_code fs_error;
  const auto status = std::filesystem::status(journal_path, fs_error);
  if (status.type() == std::filesystem::file_type::not_found || fs_error) return cannot_open();
  // A FIFO would block, /dev/zero would fill the memory.
  if (!std::filesystem::is_regular_file(status)) return invalid_argument(journal_path + ": not a regular file");
  const auto size = std::filesystem::file_size(journal_path, fs_error);
  if (fs_error || size > kMaxJournalBytes) {
    return invalid_argument(journal_path + ": " + (fs_error ? fs_error.message() : std::to_string(size) + " bytes") +
                            ", a journal is at most " + std::to_string(kMaxJournalBytes >> 20) + " MiB");
  }
  std::ifstream in(journal_path, std::ios::binary);
  if (!in) return cannot_open();
  // One byte more than its size: a file that grows while read is cut there.
  std::string text(static_cast<size_t>(size) + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<size_t>(in.gcount()));
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
