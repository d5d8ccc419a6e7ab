// The first check that broke in a run (issue 23), read from the
// evaluations the run already recorded: the earliest failed steady-state or
// [[compare]] evaluation of the before, during or after phase (recovery
// polling and abort conditions are not violations). Equal times: the one
// recorded first. journal.json keeps it as verdict.first_violation; the
// report's Finding section and junit.xml's failure messages lead with it.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "orchestrator/run/run_journal.h"

namespace chaos::orchestrator {

struct FirstViolation {
  std::string name;
  std::string phase;  // "before", "during" or "after"
  std::string kind;   // "steady_state" or "compare"
  std::string query;
  Comparator comparator = Comparator::kGreaterEqual;
  double threshold = 0;
  std::optional<double> value;  // the offending value; absent without a finite one (no data, NaN, error)
  std::string value_text;       // as evaluated: "0.95", "NaN", "no data", the compare sentence
  std::string error;            // the query failed
  WallTime at;
  // From the first inject to `at`; absent for a before-phase break (the
  // method never ran) and when nothing was injected.
  std::optional<double> seconds_after_inject;
};

// The earliest applied_at of the run's faults; absent when none was applied.
std::optional<WallTime> first_inject_time(const std::vector<FaultRecord>& faults);

std::optional<FirstViolation> find_first_violation(const std::vector<EvaluationRecord>& evaluations,
                                                   const std::optional<WallTime>& first_inject);

// One line: "p99 [during] at 2026-11-23T09:15:07Z (+4.0 s after the first
// inject): 0.31 < 0.25 failed".
std::string describe(const FirstViolation& violation);

}  // namespace chaos::orchestrator
