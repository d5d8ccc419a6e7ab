#include "orchestrator/run/first_violation.h"

#include <cmath>
#include <cstdio>

#include "common/rfc3339.h"

namespace chaos::orchestrator {

namespace {

bool is_violation(const EvaluationRecord& record) {
  if (record.evaluation.holds) return false;
  if (record.kind != "steady_state" && record.kind != "compare") return false;
  return record.phase == "before" || record.phase == "during" || record.phase == "after";
}

FirstViolation violation_from(const EvaluationRecord& record, const std::optional<WallTime>& first_inject) {
  const Evaluation& e = record.evaluation;
  FirstViolation violation{e.name, record.phase, record.kind, e.query, e.comparator, e.threshold,
                           std::nullopt, e.value_text, e.error, record.at, std::nullopt};
  if (e.has_data && e.value && std::isfinite(*e.value)) violation.value = e.value;
  if (violation.value_text.empty()) violation.value_text = e.has_data ? "" : "no data";
  if (first_inject && record.phase != "before") {
    violation.seconds_after_inject = std::chrono::duration<double>(record.at - *first_inject).count();
  }
  return violation;
}

std::string violation_seconds_text(double seconds) {
  char text[32];
  std::snprintf(text, sizeof text, "%+.1f s", seconds);
  return text;
}

}  // namespace

std::optional<WallTime> first_inject_time(const std::vector<FaultRecord>& faults) {
  std::optional<WallTime> first;
  for (const auto& fault : faults) {
    if (!first || fault.applied_at < *first) first = fault.applied_at;
  }
  return first;
}

std::optional<FirstViolation> find_first_violation(const std::vector<EvaluationRecord>& evaluations,
                                                   const std::optional<WallTime>& first_inject) {
  const EvaluationRecord* first = nullptr;
  for (const auto& record : evaluations) {
    if (!is_violation(record)) continue;
    if (first == nullptr || record.at < first->at) first = &record;  // ties keep the one recorded first
  }
  if (first == nullptr) return std::nullopt;
  return violation_from(*first, first_inject);
}

std::string describe(const FirstViolation& violation) {
  std::string text = violation.name + " [" + violation.phase + "] at " + format_rfc3339(violation.at);
  if (violation.seconds_after_inject) {
    text += " (" + violation_seconds_text(*violation.seconds_after_inject) + " after the first inject)";
  } else if (violation.phase == "before") {
    text += " (before any inject)";
  }
  text += ": ";
  if (!violation.error.empty()) return text + "query failed: " + violation.error;
  if (violation.kind == "compare") return text + violation.value_text;
  char threshold[32];
  std::snprintf(threshold, sizeof threshold, "%g", violation.threshold);
  const std::string rule = std::string(comparator_symbol(violation.comparator)) + " " +
                           (std::isnan(violation.threshold) ? std::string("NaN")
                            : std::isinf(violation.threshold) ? std::string(violation.threshold > 0 ? "+Inf" : "-Inf")
                                                              : std::string(threshold));
  return text + violation.value_text + " " + rule + " failed";
}

}  // namespace chaos::orchestrator
