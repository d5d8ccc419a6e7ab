// The disk fault kinds (disk.fill, disk.throttle), registered in the agent's main.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "agent/fault.h"
#include "agent/faults/process/process_target.h"

namespace chaos::agent {

// `cgroup_root` empty: where the host's cgroups are seen from the agent
// (host_cgroup_root()). disk.throttle resolves its process targets with
// `targeting`.
std::vector<std::unique_ptr<FaultKind>> make_disk_fault_kinds(std::shared_ptr<const ProcessTargeting> targeting,
                                                              const std::string& cgroup_root);

}  // namespace chaos::agent
