// The cgroups disk.throttle acts on: cgroup v1's blkio hierarchy
// (<root>/blkio) when it is mounted, else cgroup v2 (<root>/unified on a
// hybrid machine, <root> on a pure v2 one) where the io controller is
// enabled. Reads the limits and byte counters of one device, writes limits,
// creates and removes a child cgroup, moves a process. Every path is built
// from the roots given to the constructor, so unit tests work on a fake
// tree in a temp dir; every read is bounded.
#pragma once

#include <string>
#include <vector>

#include "agent/faults/container/cgroup_freezer.h"
#include "agent/faults/disk/io_throttle_rules.h"

namespace chaos::agent::disk {

struct IoCgroup {
  CgroupVersion version = CgroupVersion::kV1;
  std::string path;       // as /proc/PID/cgroup names it: "/system.slice/nats.service"
  std::string directory;  // where it is mounted: "<root>/blkio/system.slice/nats.service"
};

class IoThrottleCgroups {
 public:
  explicit IoThrottleCgroups(std::string cgroup_root = "/sys/fs/cgroup", std::string proc_root = "/proc");

  // v1 when the blkio controller is mounted at <root>/blkio, else v2 when
  // its root lists "io" in cgroup.controllers; FAILED_PRECONDITION saying
  // neither is usable.
  StatusOr<CgroupVersion> version() const;
  // The io cgroup `pid` ("self" for the agent) is in. NOT_FOUND when the
  // process is gone.
  StatusOr<IoCgroup> cgroup_of(const std::string& pid) const;
  // A cgroup by its path (from an undo record): checked to be absolute,
  // canonical and bounded, so a corrupt journal cannot aim a write elsewhere.
  StatusOr<IoCgroup> cgroup_at(CgroupVersion version, const std::string& path) const;
  // `parent`'s child `name` (one path component).
  StatusOr<IoCgroup> child(const IoCgroup& parent, const std::string& name) const;

  bool exists(const IoCgroup& cgroup) const;
  // The cgroup's limits on `device` (zeros: no rule). NOT_FOUND when the
  // cgroup is gone.
  StatusOr<ThrottleLimits> limits(const IoCgroup& cgroup, DeviceNumber device) const;
  // Sets all four limits (0 deletes one). NOT_FOUND when the cgroup is gone.
  Status set_limits(const IoCgroup& cgroup, DeviceNumber device, const ThrottleLimits& limits) const;
  // Bytes through the cgroup on `device` since it was created.
  IoBytes bytes(const IoCgroup& cgroup, DeviceNumber device) const;

  // mkdir; ALREADY_EXISTS when it is there.
  Status create(const IoCgroup& cgroup) const;
  // rmdir; a cgroup already gone is success. FAILED_PRECONDITION while it
  // still holds processes.
  Status remove(const IoCgroup& cgroup) const;
  // Moves the process `pid` with all its threads (cgroup.procs). NOT_FOUND
  // when the process or the cgroup is gone.
  Status move(int pid, const IoCgroup& cgroup) const;
  // The cgroup's processes; empty when it is gone.
  std::vector<int> processes(const IoCgroup& cgroup) const;
  // Every cgroup named `name` in the hierarchy of `version` (a bounded
  // walk: recovery of a fault whose journal entry lost its record).
  std::vector<IoCgroup> find_named(CgroupVersion version, const std::string& name) const;

 private:
  std::string mount(CgroupVersion version) const;

  std::string cgroup_root_;
  std::string proc_root_;
};

}  // namespace chaos::agent::disk
