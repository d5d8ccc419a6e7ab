// Evaluates [[compare]] checks: the same query on the faulted nodes and on
// the control set, both asked now; holds when they differ by less than the
// tolerance. No data on either side, a failed query, or an answer that is
// not exactly one series never holds (a compare needs one number per side).
#pragma once

#include <map>
#include <string>

#include "orchestrator/clients/prometheus_client.h"
#include "orchestrator/experiment/experiment.h"
#include "orchestrator/run/run_journal.h"

namespace chaos::orchestrator {

struct CompareOutcome {
  Evaluation evaluation;  // kind "compare": value = the difference, value_text = describe()
  CompareSample sample;
};

CompareOutcome evaluate_compare(const CompareCheck& check, const StatusOr<QueryResult>& faulted,
                                const StatusOr<QueryResult>& control);

// Evaluates every check that applies to `phase`, journals each, and adds
// "name [label]" -> "faulted 0.31 vs control 0.12 differ by 158% >= 25%" to
// `failures` for the ones that do not hold. True when all hold.
bool compare_checks_hold(const Experiment& experiment, Phase phase, const std::string& label,
                         PrometheusClient& prometheus, RunJournal& journal,
                         std::map<std::string, std::string>& failures);

}  // namespace chaos::orchestrator
