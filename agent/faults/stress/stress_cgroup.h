// Where stress workers go to compete with a target: the target process's
// cgroups for one resource (cgroup v1: the hierarchy holding the cpu or
// memory controller; else the v2 cgroup), and the OOM-kill counter of a
// memory cgroup, the evidence that the OOM killer ended a worker. Paths are
// built from the roots given, so unit tests use a fake tree.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"

namespace chaos::agent::stress {

enum class StressResource { kCpu, kMemory };

struct StressCgroup {
  std::string hierarchy;  // "v1 cpu,cpuacct", "v1 memory", "v2"
  std::string path;       // as /proc/PID/cgroup names it: "/system.slice/nats.service"
  std::string directory;  // where it is mounted: "<root>/memory/system.slice/nats.service"

  std::string describe() const { return hierarchy + " " + path; }
};

class StressCgroups {
 public:
  explicit StressCgroups(std::string cgroup_root = "/sys/fs/cgroup", std::string proc_root = "/proc");

  // The cgroup of `pid` that governs `resource`: the v1 hierarchy whose
  // controllers include it (for kCpu "cpu"), else the v2 cgroup. NOT_FOUND
  // when the process is gone, FAILED_PRECONDITION when neither exists.
  StatusOr<StressCgroup> cgroup_of(int pid, StressResource resource) const;
  // Moves `pid` into `cgroup` (its cgroup.procs).
  Status place(const StressCgroup& cgroup, int pid) const;
  // The cgroup's processes (cgroup.procs); empty when it is gone.
  std::vector<int> processes(const StressCgroup& cgroup) const;
  // "oom_kill N" of a memory cgroup (v1 memory.oom_control, v2
  // memory.events); nullopt where the kernel does not count.
  std::optional<std::uint64_t> oom_kills(const StressCgroup& cgroup) const;

 private:
  std::string cgroup_root_;
  std::string proc_root_;
};

}  // namespace chaos::agent::stress
