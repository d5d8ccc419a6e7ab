#include "orchestrator/history/history_listing.h"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <sstream>

#include "common/printable_text.h"
#include "common/rfc3339.h"
#include "orchestrator/report/html_text.h"

namespace chaos::orchestrator::history {

namespace {

std::chrono::system_clock::time_point history_listing_time(double seconds) {
  return std::chrono::system_clock::time_point(
      std::chrono::duration_cast<std::chrono::system_clock::duration>(std::chrono::duration<double>(seconds)));
}

std::string history_listing_clock(double seconds) {
  const std::time_t time = static_cast<std::time_t>(seconds);
  std::tm utc{};
  gmtime_r(&time, &utc);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%d %H:%M:%S", &utc);
  return buffer;
}

std::string history_listing_pad(const std::string& text, size_t width) {
  return text.size() >= width ? text + " " : text + std::string(width - text.size(), ' ');
}

nlohmann::json history_listing_optional(const std::optional<double>& value) {
  return value ? nlohmann::json(*value) : nlohmann::json();
}

}  // namespace

std::string format_history_text(const std::vector<HistoryEntry>& entries) {
  std::ostringstream out;
  if (entries.empty()) return "no runs recorded\n";
  out << history_listing_pad("STARTED (UTC)", 21) << history_listing_pad("VERDICT", 10)
      << history_listing_pad("TTR", 10) << history_listing_pad("TTD", 10) << history_listing_pad("FAULTS", 8)
      << history_listing_pad("EXPERIMENT", 28) << "ID\n";
  for (const auto& entry : entries) {
    const auto seconds = [](const std::optional<double>& value) {
      return value ? report::format_seconds(*value) : std::string("-");
    };
    // Text from the database must not drive the terminal.
    out << history_listing_pad(history_listing_clock(entry.started_at), 21)
        << history_listing_pad(printable_text(entry.verdict), 10)
        << history_listing_pad(seconds(entry.time_to_recovery_seconds), 10)
        << history_listing_pad(seconds(entry.time_to_detect_seconds), 10)
        << history_listing_pad(std::to_string(entry.faults.size()), 8)
        << history_listing_pad(printable_text(entry.title), 28)
        << printable_text(entry.experiment_id) << "\n";
  }
  return out.str();
}

nlohmann::json history_to_json(const std::vector<HistoryEntry>& entries) {
  nlohmann::json runs = nlohmann::json::array();
  for (const auto& entry : entries) {
    nlohmann::json slo = nlohmann::json::array();
    for (const auto& worst : entry.slo_worst) {
      slo.push_back({{"name", worst.name}, {"query", worst.query}, {"comparator", worst.comparator},
                     {"threshold", worst.threshold}, {"worst", worst.worst}, {"held", worst.held}});
    }
    nlohmann::json faults = nlohmann::json::array();
    for (const auto& fault : entry.faults) {
      faults.push_back({{"step", fault.step}, {"kind", fault.kind}, {"node", fault.node}, {"agent", fault.agent},
                        {"fault_id", fault.fault_id},
                        {"applied_at", format_rfc3339(history_listing_time(fault.applied_at))},
                        {"reverted_at", fault.reverted_at
                                            ? nlohmann::json(format_rfc3339(history_listing_time(*fault.reverted_at)))
                                            : nlohmann::json()},
                        {"revert_reason", fault.revert_reason}, {"ended_early", fault.ended_early}});
    }
    runs.push_back({{"experiment_id", entry.experiment_id},
                    {"title", entry.title},
                    {"file", entry.file_path},
                    {"file_sha256", entry.file_sha256},
                    {"started_at", format_rfc3339(history_listing_time(entry.started_at))},
                    {"finished_at", format_rfc3339(history_listing_time(entry.finished_at))},
                    {"verdict", entry.verdict},
                    {"exit_code", entry.exit_code},
                    {"reason", entry.reason},
                    {"time_to_recovery_seconds", history_listing_optional(entry.time_to_recovery_seconds)},
                    {"time_to_detect_seconds", history_listing_optional(entry.time_to_detect_seconds)},
                    {"detected_by", entry.detected_by.empty()
                                        ? nlohmann::json()
                                        : nlohmann::json{{"name", entry.detected_by},
                                                         {"kind", entry.detected_by_kind}}},
                    {"report_dir", entry.report_dir},
                    {"slo_worst", std::move(slo)},
                    {"faults", std::move(faults)},
                    {"leftovers", entry.leftovers}});
  }
  return {{"runs", std::move(runs)}};
}

}  // namespace chaos::orchestrator::history
