#include "agent/faults/disk/disk_fault_kinds.h"

#include "agent/faults/disk/disk_fill_kind.h"

namespace chaos::agent {

std::vector<std::unique_ptr<FaultKind>> make_disk_fault_kinds() {
  std::vector<std::unique_ptr<FaultKind>> kinds;
  kinds.push_back(std::make_unique<disk::DiskFillKind>());
  return kinds;
}

}  // namespace chaos::agent
