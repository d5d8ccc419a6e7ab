// The [[compare]] sections of an experiment: one query on the faulted nodes
// and on a control set (internal to experiment_loader.cc; the placeholder
// substitution is public for tests and the plan printer).
#pragma once

#include <string>
#include <vector>

#include "common/status.h"
#include "common/toml_reader.h"
#include "orchestrator/experiment/experiment.h"

namespace chaos::orchestrator {

// Bounds on what an experiment file may ask for.
inline constexpr size_t kCompareMaxChecks = 32;
inline constexpr size_t kCompareMaxNodes = 1000;
inline constexpr double kCompareMaxTolerance = 100;  // relative: 10000 %

// Reads every [[compare]] table. `experiment.method` and `experiment.agents`
// must be read already; `resolve_agents` false (validate --offline) checks
// everything but the node sets.
std::vector<CompareCheck> read_compare_checks(TableReader& root, const Experiment& experiment,
                                              bool resolve_agents);

// The node names as one regular expression that matches exactly them
// ("n1|n\\.2"): every RE2 metacharacter is escaped.
std::string nodes_regex(const std::vector<std::string>& nodes);

// Replaces each $nodes in a PromQL query by nodes_regex(nodes), escaped for
// the string literal it stands in ("..." and '...' double backslashes,
// `...` keeps them). An error when $nodes is missing or outside a string.
StatusOr<std::string> substitute_nodes(const std::string& query, const std::vector<std::string>& nodes);

}  // namespace chaos::orchestrator
