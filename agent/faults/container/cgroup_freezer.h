// A process's cgroup, frozen and thawed through the kernel's cgroup
// freezer: cgroup v1's freezer controller (freezer.state FROZEN / THAWED)
// or cgroup v2's core freezer (cgroup.freeze 1 / 0, cgroup.events
// "frozen 1"). Every read is bounded and non-blocking, and every path is
// built from the cgroup and proc roots given to the constructor, so unit
// tests work on a fake tree in a temp dir.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "common/status.h"

namespace chaos::agent {

enum class CgroupVersion { kV1, kV2 };

enum class FreezerState {
  kThawed,
  kFreezing,  // asked to freeze, some task is not frozen yet
  kFrozen,
  kGone,      // the cgroup is gone: its container stopped
};

const char* cgroup_version_name(CgroupVersion version);  // "v1", "v2"
const char* freezer_state_name(FreezerState state);      // "THAWED", ...

// One cgroup the freezer acts on.
struct FreezerCgroup {
  CgroupVersion version = CgroupVersion::kV1;
  std::string path;       // as /proc/PID/cgroup names it: "/libpod_parent/libpod-3f2a..."
  std::string directory;  // where it is mounted: "<root>/freezer/libpod_parent/libpod-3f2a..."

  // freezer.state (v1) or cgroup.freeze (v2): the file the agent writes.
  std::string control_file() const;
};

// What /proc/PID/cgroup can hold: one line per hierarchy, a path each.
constexpr std::size_t kMaxProcCgroupBytes = 64 * 1024;
// cgroup.procs / tasks of one container: a pid and a newline per task.
constexpr std::size_t kMaxCgroupTasksBytes = 1024 * 1024;

class CgroupFreezer {
 public:
  explicit CgroupFreezer(std::string cgroup_root = "/sys/fs/cgroup", std::string proc_root = "/proc");

  // The cgroup of `pid` that freezing acts on: the v1 freezer hierarchy's
  // when the freezer controller is mounted there (<root>/freezer), else the
  // v2 one ("0::" line; <root>/unified on a hybrid machine, <root> on a
  // pure v2 one). NOT_FOUND when the process is gone; FAILED_PRECONDITION
  // when neither freezer is usable for it.
  StatusOr<FreezerCgroup> cgroup_of(int pid) const;
  // The path of the cgroup `pid` ("self" for the agent) is in within the
  // hierarchy of `version`, usable freezer or not (the root cgroup has no
  // freezer files). NOT_FOUND when the process is gone or has no such line.
  StatusOr<std::string> cgroup_path(const std::string& pid, CgroupVersion version) const;
  // A cgroup named by an undo record: the path is checked (absolute, no
  // "..", bounded) and placed under this freezer's root again, so a
  // corrupt journal cannot aim a write elsewhere.
  StatusOr<FreezerCgroup> cgroup_at(CgroupVersion version, const std::string& path) const;

  Status freeze(const FreezerCgroup& cgroup) const;
  // A cgroup that is gone counts as thawed.
  Status thaw(const FreezerCgroup& cgroup) const;
  // What the kernel reports now. Errors only for unreadable files.
  StatusOr<FreezerState> state(const FreezerCgroup& cgroup) const;
  // The cgroup's processes (cgroup.procs) or threads (v1 "tasks"); empty
  // when the cgroup is gone.
  std::vector<int> processes(const FreezerCgroup& cgroup) const;
  std::vector<int> threads(const FreezerCgroup& cgroup) const;
  // Field 3 of <proc root>/TID/stat, '?' when the task is gone. A task
  // frozen by the v1 freezer reads 'D'; v2 shows frozen tasks as 'S', so
  // there cgroup.events is the only evidence.
  char task_state(int tid) const;

 private:
  std::string v2_mount() const;

  std::string cgroup_root_;
  std::string proc_root_;
};

}  // namespace chaos::agent
