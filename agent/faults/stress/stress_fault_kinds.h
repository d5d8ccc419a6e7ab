// The stress fault kinds (stress.cpu, stress.memory), registered in the
// agent's main.
#pragma once

#include <memory>
#include <vector>

#include "agent/fault.h"
#include "agent/faults/stress/stress_workers.h"

namespace chaos::agent {

std::vector<std::unique_ptr<FaultKind>> make_stress_fault_kinds(stress::StressOptions options = {});

}  // namespace chaos::agent
