// The disk fault kinds (disk.fill, disk.throttle), registered in the agent's main.
#pragma once

#include <memory>
#include <vector>

#include "agent/fault.h"

namespace chaos::agent {

std::vector<std::unique_ptr<FaultKind>> make_disk_fault_kinds();

}  // namespace chaos::agent
