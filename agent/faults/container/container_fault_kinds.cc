#include "agent/faults/container/container_fault_kinds.h"

namespace chaos::agent {

std::vector<std::unique_ptr<FaultKind>> make_container_fault_kinds(ContainerPauseOptions options) {
  std::vector<std::unique_ptr<FaultKind>> kinds;
  kinds.push_back(std::make_unique<ContainerPauseKind>(std::move(options)));
  return kinds;
}

}  // namespace chaos::agent
