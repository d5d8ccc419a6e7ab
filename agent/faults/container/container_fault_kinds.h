// The container fault kinds (container.pause), registered in the agent's
// main (wrapped in ContainerTargetingKind like every kind).
#pragma once

#include <memory>
#include <vector>

#include "agent/fault.h"
#include "agent/faults/container/container_pause_kind.h"

namespace chaos::agent {

std::vector<std::unique_ptr<FaultKind>> make_container_fault_kinds(ContainerPauseOptions options = {});

}  // namespace chaos::agent
