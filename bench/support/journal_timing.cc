#include "bench/support/journal_timing.h"

#include <cmath>

#include "common/rfc3339.h"

namespace chaos::bench {

namespace {

std::optional<long long> time_of(const nlohmann::json& object, const char* key) {
  if (!object.is_object() || !object.contains(key) || !object[key].is_string()) return std::nullopt;
  return parse_rfc3339_ms(object[key].get<std::string>());
}

double seconds_between(long long from_ms, long long to_ms) { return static_cast<double>(to_ms - from_ms) / 1000.0; }

}  // namespace

std::optional<long long> parse_rfc3339_ms(const std::string& text) {
  const auto seconds = parse_rfc3339(text);
  if (!seconds) return std::nullopt;
  // Whole milliseconds, truncated; the epsilon absorbs binary rounding of
  // decimal fractions such as .29.
  return static_cast<long long>(std::floor(*seconds * 1000 + 1e-6));
}

StatusOr<BreachTiming> breach_timing(const nlohmann::json& journal) {
  if (!journal.is_object() || journal.value("schema", "") != "chaos.journal/v1") {
    return invalid_argument("not a chaos.journal/v1 document");
  }
  std::optional<long long> breach, abort, applied, reverted;
  for (const auto& evaluation : journal.value("evaluations", nlohmann::json::array())) {
    if (evaluation.value("phase", "") != "during" || evaluation.value("kind", "") != "abort") continue;
    if (evaluation.value("pass", false) && !breach) breach = time_of(evaluation, "at");
  }
  for (const auto& event : journal.value("events", nlohmann::json::array())) {
    if (event.value("type", "") == "abort" && !abort) abort = time_of(event, "at");
  }
  BreachTiming timing;
  for (const auto& fault : journal.value("faults", nlohmann::json::array())) {
    ++timing.faults;
    const auto at = time_of(fault, "applied_at");
    const auto end = time_of(fault, "reverted_at");
    if (!end) return failed_precondition("fault " + fault.value("fault_id", "?") + " was never reverted");
    if (at && (!applied || *at < *applied)) applied = at;
    if (!reverted || *end > *reverted) reverted = end;
  }
  if (!breach) return failed_precondition("no abort condition held during the run (no breach seen)");
  if (!abort) return failed_precondition("the run has no abort event");
  if (!applied || !reverted) return failed_precondition("the run has no applied and reverted fault");
  timing.inject_to_breach_seen_s = seconds_between(*applied, *breach);
  timing.breach_to_abort_s = seconds_between(*breach, *abort);
  timing.abort_to_all_reverted_s = seconds_between(*abort, *reverted);
  timing.breach_to_all_reverted_s = seconds_between(*breach, *reverted);
  if (journal.contains("verdict")) timing.verdict = journal["verdict"].value("result", "");
  return timing;
}

nlohmann::json to_json(const BreachTiming& timing) {
  return {{"inject_to_breach_seen_s", timing.inject_to_breach_seen_s},
          {"breach_to_abort_s", timing.breach_to_abort_s},
          {"abort_to_all_reverted_s", timing.abort_to_all_reverted_s},
          {"breach_to_all_reverted_s", timing.breach_to_all_reverted_s},
          {"faults", timing.faults},
          {"verdict", timing.verdict}};
}

}  // namespace chaos::bench
