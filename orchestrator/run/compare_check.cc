#include "orchestrator/run/compare_check.h"

#include <cmath>
#include <cstdio>
#include <limits>

namespace chaos::orchestrator {

namespace {

std::string compare_number(double value) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.4g", value);
  return buffer;
}

std::string compare_amount(double difference, bool relative) {
  return relative ? compare_number(difference * 100) + "%" : compare_number(difference);
}

// One side's value; false with the reason in `text` when there is none.
bool compare_side(const StatusOr<QueryResult>& answer, const char* side, std::optional<double>& value,
                  std::string& text) {
  if (!answer.ok()) {
    text = std::string(side) + " query failed: " + answer.status().message();
    return false;
  }
  if (answer->series.size() > 1) {
    text = std::string("not comparable: the ") + side + " query returned " + std::to_string(answer->series.size()) +
           " series; it must aggregate to one (e.g. sum(...), or histogram_quantile over sum by (le))";
    return false;
  }
  if (answer->series.empty() || answer->series.front().points.empty()) {
    text = std::string(side) + " no data";
    return false;
  }
  const SamplePoint& point = answer->series.front().points.back();
  text = point.text;
  if (!std::isfinite(point.value)) return false;
  value = point.value;
  return true;
}

}  // namespace

CompareOutcome evaluate_compare(const CompareCheck& check, const StatusOr<QueryResult>& faulted,
                                const StatusOr<QueryResult>& control) {
  CompareOutcome outcome;
  CompareSample& sample = outcome.sample;
  sample.faulted_query = check.faulted_query;
  sample.control_query = check.control_query;
  sample.relative = check.relative;
  Evaluation& evaluation = outcome.evaluation;
  evaluation.name = check.name;
  evaluation.query = check.query;
  evaluation.comparator = Comparator::kLess;
  evaluation.threshold = check.tolerance;
  evaluation.series_count = (faulted.ok() ? faulted->series.size() : 0) + (control.ok() ? control->series.size() : 0);
  const bool faulted_ok = compare_side(faulted, "faulted", sample.faulted, sample.faulted_text);
  const bool control_ok = compare_side(control, "control", sample.control, sample.control_text);
  const std::string values = "faulted " + sample.faulted_text + " vs control " + sample.control_text;
  if (!faulted_ok || !control_ok) {
    // A failed query is an error; no data (or NaN) is simply no data.
    if (!faulted.ok()) evaluation.error = sample.faulted_text;
    else if (!control.ok()) evaluation.error = sample.control_text;
    evaluation.value_text = values + ": never holds without a number on both sides";
    return outcome;
  }
  const double f = *sample.faulted, c = *sample.control;
  double difference = std::abs(f - c);
  if (check.relative) {
    difference = c != 0 ? difference / std::abs(c) : (f == 0 ? 0 : std::numeric_limits<double>::infinity());
  }
  evaluation.has_data = true;
  evaluation.value = difference;
  evaluation.holds = difference < check.tolerance;
  evaluation.value_text = values + " differ by " + compare_amount(difference, check.relative) +
                          (evaluation.holds ? " < " : " >= ") + compare_amount(check.tolerance, check.relative);
  return outcome;
}

bool compare_checks_hold(const Experiment& experiment, Phase phase, const std::string& label,
                         PrometheusClient& prometheus, RunJournal& journal,
                         std::map<std::string, std::string>& failures) {
  bool all_hold = true;
  for (const auto& check : experiment.compare) {
    if (!check.applies_to(phase)) continue;
    const auto faulted = prometheus.instant_query(check.faulted_query);
    const auto control = prometheus.instant_query(check.control_query);
    const CompareOutcome outcome = evaluate_compare(check, faulted, control);
    journal.compare_evaluation(label, outcome.evaluation, outcome.sample);
    if (outcome.evaluation.holds) continue;
    all_hold = false;
    failures.emplace(check.name + " [" + label + "]", outcome.evaluation.value_text);
  }
  return all_hold;
}

}  // namespace chaos::orchestrator
