#include "orchestrator/clients/slo_evaluator.h"

#include <charconv>
#include <cmath>

namespace chaos::orchestrator {

namespace {

std::string threshold_text(double value) {
  char buffer[64];
  const auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
  return std::string(buffer, result.ptr);
}

}  // namespace

bool compare(double value, Comparator comparator, double threshold) {
  if (std::isnan(value) || std::isnan(threshold)) return false;
  switch (comparator) {
    case Comparator::kLess: return value < threshold;
    case Comparator::kLessEqual: return value <= threshold;
    case Comparator::kGreater: return value > threshold;
    case Comparator::kGreaterEqual: return value >= threshold;
    case Comparator::kEqual: return value == threshold;
    case Comparator::kNotEqual: return value != threshold;
  }
  return false;
}

Evaluation evaluate(const Condition& condition, const StatusOr<QueryResult>& answer,
                    Quantifier quantifier) {
  Evaluation evaluation;
  evaluation.name = condition.name;
  evaluation.query = condition.query;
  evaluation.comparator = condition.comparator;
  evaluation.threshold = condition.threshold;
  evaluation.value_text = "no data";
  if (!answer.ok()) {
    evaluation.error = answer.status().message();
    return evaluation;
  }
  evaluation.series_count = answer->series.size();
  const bool every = quantifier == Quantifier::kEverySeries;
  bool decided = false;
  for (const auto& series : answer->series) {
    if (series.points.empty()) continue;
    const SamplePoint& latest = series.points.back();
    const bool satisfied = compare(latest.value, condition.comparator, condition.threshold);
    if (!evaluation.has_data || (!decided && satisfied != every)) {
      evaluation.value = latest.value;
      evaluation.value_text = latest.text;
      decided = satisfied != every;  // the first counter-example (all) or witness (any) decides
    }
    evaluation.has_data = true;
  }
  evaluation.holds = evaluation.has_data && (every ? !decided : decided);
  return evaluation;
}

std::string describe(const Evaluation& evaluation) {
  if (!evaluation.error.empty()) return "query failed: " + evaluation.error;
  const std::string rule = std::string(comparator_symbol(evaluation.comparator)) + " " +
                           threshold_text(evaluation.threshold);
  if (!evaluation.has_data) return "no data (wanted " + rule + ")";
  return evaluation.value_text + " " + rule + (evaluation.holds ? " ok" : " failed");
}

std::string describe_abort(const Evaluation& evaluation) {
  if (!evaluation.error.empty()) return "query failed: " + evaluation.error;
  if (!evaluation.has_data) return "no data (not triggered)";
  return evaluation.value_text + " " + comparator_symbol(evaluation.comparator) + " " +
         threshold_text(evaluation.threshold) + (evaluation.holds ? " TRIGGERED" : " not triggered");
}

}  // namespace chaos::orchestrator
