#include "agent/faults/disk/disk_fault_kinds.h"

#include "agent/faults/container/container_pause_kind.h"
#include "agent/faults/disk/disk_throttle_kind.h"
#include "agent/faults/disk/disk_fill_kind.h"

namespace chaos::agent {

std::vector<std::unique_ptr<FaultKind>> make_disk_fault_kinds(std::shared_ptr<const ProcessTargeting> targeting,
                                                              const std::string& cgroup_root) {
  std::vector<std::unique_ptr<FaultKind>> kinds;
  disk::DiskThrottleOptions throttle_options;
  throttle_options.cgroup_root = cgroup_root.empty() ? host_cgroup_root() : cgroup_root;
  kinds.push_back(std::make_unique<disk::DiskThrottleKind>(std::move(targeting), std::move(throttle_options)));
  kinds.push_back(std::make_unique<disk::DiskFillKind>());
  return kinds;
}

}  // namespace chaos::agent
