// The plan of an experiment for people (`chaosctl run --dry-run`): checks,
// abort conditions, and the method as a timeline with resolved targets.
#pragma once

#include <ostream>

#include "orchestrator/experiment/experiment.h"

namespace chaos::orchestrator {

void print_plan(std::ostream& out, const Experiment& experiment);

}  // namespace chaos::orchestrator
