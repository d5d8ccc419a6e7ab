// The process fault kinds (process.kill, process.pause), registered in the
// agent's main.
#pragma once

#include <memory>
#include <vector>

#include "agent/fault.h"
#include "agent/faults/process/process_target.h"

namespace chaos::agent {

std::vector<std::unique_ptr<FaultKind>> make_process_fault_kinds(std::shared_ptr<const ProcessTargeting> targeting);

}  // namespace chaos::agent
