// Picks the agents a method step targets: every label must match, then
// `count` or `percent` of the matches are chosen by a seeded shuffle, so the
// same experiment file picks the same agents on every run.
#pragma once

#include <string>
#include <vector>

#include "orchestrator/experiment/experiment.h"

namespace chaos::orchestrator {

std::vector<AgentEndpoint> select_targets(const std::vector<AgentEndpoint>& agents,
                                          const TargetSelector& selector);

// "{role=broker, zone=a}" for messages.
std::string describe_labels(const Labels& labels);

}  // namespace chaos::orchestrator
