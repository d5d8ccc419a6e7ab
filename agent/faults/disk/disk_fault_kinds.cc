#include "agent/faults/disk/disk_fault_kinds.h"

namespace chaos::agent {

std::vector<std::unique_ptr<FaultKind>> make_disk_fault_kinds() {
  std::vector<std::unique_ptr<FaultKind>> kinds;
  return kinds;
}

}  // namespace chaos::agent
