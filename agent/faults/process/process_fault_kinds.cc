#include "agent/faults/process/process_fault_kinds.h"

#include "agent/faults/process/process_kill.h"
#include "agent/faults/process/process_pause.h"

namespace chaos::agent {

std::vector<std::unique_ptr<FaultKind>> make_process_fault_kinds(std::shared_ptr<const ProcessTargeting> targeting) {
  std::vector<std::unique_ptr<FaultKind>> kinds;
  kinds.push_back(std::make_unique<ProcessKillKind>(targeting));
  kinds.push_back(std::make_unique<ProcessPauseKind>(targeting));
  return kinds;
}

}  // namespace chaos::agent
