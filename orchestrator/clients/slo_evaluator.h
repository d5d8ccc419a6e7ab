// Judges a Condition against a Prometheus answer. An empty answer is "no
// data" and never holds; NaN never satisfies any comparator (not even !=),
// because a ratio of zero over zero means the SLI is not being measured.
#pragma once

#include <optional>
#include <string>

#include "common/status.h"
#include "orchestrator/experiment/experiment.h"
#include "orchestrator/clients/prometheus_client.h"

namespace chaos::orchestrator {

struct Evaluation {
  std::string name;
  std::string query;
  Comparator comparator = Comparator::kGreaterEqual;
  double threshold = 0;
  bool has_data = false;
  bool holds = false;
  std::optional<double> value;  // the value that decided (first offending series)
  std::string value_text;       // as Prometheus sent it, or "no data"
  std::string error;            // the query failed (holds is false)
  size_t series_count = 0;
};

// Steady-state checks hold only when EVERY series satisfies the comparator;
// abort conditions fire when ANY series does.
enum class Quantifier { kEverySeries, kAnySeries };

bool compare(double value, Comparator comparator, double threshold);

Evaluation evaluate(const Condition& condition, const StatusOr<QueryResult>& answer,
                    Quantifier quantifier = Quantifier::kEverySeries);

// "0.985 >= 0.99 failed", "no data", "query failed: ..." for people.
std::string describe(const Evaluation& evaluation);

// The same for an abort condition, where true is the alarm: "0.1 < 0.2
// TRIGGERED", "0.5 < 0.2 not triggered", "no data (not triggered)".
std::string describe_abort(const Evaluation& evaluation);

}  // namespace chaos::orchestrator
