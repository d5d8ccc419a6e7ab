// The stress fault kinds (stress.cpu), registered in the agent's main.
#pragma once

#include <memory>
#include <vector>

#include "agent/fault.h"

namespace chaos::agent {

std::vector<std::unique_ptr<FaultKind>> make_stress_fault_kinds();

}  // namespace chaos::agent
