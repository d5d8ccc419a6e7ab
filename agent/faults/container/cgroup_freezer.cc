#include "agent/faults/container/cgroup_freezer.h"

#include <sys/stat.h>

#include <sstream>

#include "common/cgroup_file.h"
#include "common/proc_reader.h"

namespace chaos::agent {

namespace {

constexpr char kV1StateFile[] = "freezer.state";
constexpr char kV2FreezeFile[] = "cgroup.freeze";
constexpr char kV2EventsFile[] = "cgroup.events";
// freezer.state, cgroup.freeze and cgroup.events are a few words each.
constexpr std::size_t kMaxControlFileBytes = 4096;

bool exists(const std::string& path) {
  struct stat info {};
  return ::stat(path.c_str(), &info) == 0;
}

std::string trimmed(const std::string& text) {
  const auto begin = text.find_first_not_of(" \t\r\n");
  if (begin == std::string::npos) return "";
  return text.substr(begin, text.find_last_not_of(" \t\r\n") - begin + 1);
}

}  // namespace

const char* cgroup_version_name(CgroupVersion version) { return version == CgroupVersion::kV1 ? "v1" : "v2"; }

const char* freezer_state_name(FreezerState state) {
  switch (state) {
    case FreezerState::kThawed: return "THAWED";
    case FreezerState::kFreezing: return "FREEZING";
    case FreezerState::kFrozen: return "FROZEN";
    case FreezerState::kGone: return "gone";
  }
  return "?";
}

std::string FreezerCgroup::control_file() const {
  return directory + "/" + (version == CgroupVersion::kV1 ? kV1StateFile : kV2FreezeFile);
}

CgroupFreezer::CgroupFreezer(std::string cgroup_root, std::string proc_root)
    : cgroup_root_(std::move(cgroup_root)), proc_root_(std::move(proc_root)) {}

// A hybrid machine mounts the v2 hierarchy at <root>/unified.
std::string CgroupFreezer::v2_mount() const {
  const std::string unified = cgroup_root_ + "/unified";
  return exists(unified + "/cgroup.controllers") ? unified : cgroup_root_;
}

StatusOr<FreezerCgroup> CgroupFreezer::cgroup_at(CgroupVersion version, const std::string& path) const {
  CHAOS_RETURN_IF_ERROR(check_cgroup_path(path));
  FreezerCgroup cgroup;
  cgroup.version = version;
  cgroup.path = path;
  cgroup.directory = (version == CgroupVersion::kV1 ? cgroup_root_ + "/freezer" : v2_mount()) +
                     (path == "/" ? "" : path);
  return cgroup;
}

StatusOr<std::string> CgroupFreezer::cgroup_path(const std::string& pid, CgroupVersion version) const {
  const std::string file = proc_root_ + "/" + pid + "/cgroup";
  const auto text = read_bounded(file, kMaxProcCgroupBytes);
  if (!text) return not_found(file + ": cannot be read (the process is gone)");
  std::istringstream lines(*text);
  std::string line;
  // "6:freezer:/libpod_parent/libpod-3f2a..." and "0::/libpod_parent/...".
  while (std::getline(lines, line)) {
    const auto first = line.find(':');
    const auto second = first == std::string::npos ? std::string::npos : line.find(':', first + 1);
    if (second == std::string::npos) continue;
    const std::string controllers = line.substr(first + 1, second - first - 1);
    const std::string path = line.substr(second + 1);
    if (version == CgroupVersion::kV2) {
      if (line.compare(0, first, "0") == 0 && controllers.empty()) return path;
      continue;
    }
    std::istringstream names(controllers);
    std::string name;
    while (std::getline(names, name, ',')) {
      if (name == "freezer") return path;
    }
  }
  return not_found(file + ": no " + (version == CgroupVersion::kV1 ? "freezer" : "cgroup v2") + " line");
}

StatusOr<FreezerCgroup> CgroupFreezer::cgroup_of(int pid) const {
  if (pid <= 0) return invalid_argument("pid " + std::to_string(pid) + ": not a process");
  const std::string id = std::to_string(pid);
  auto v1 = cgroup_path(id, CgroupVersion::kV1);
  if (v1.ok() && exists(cgroup_root_ + "/freezer/cgroup.procs")) return cgroup_at(CgroupVersion::kV1, *v1);
  auto v2 = cgroup_path(id, CgroupVersion::kV2);
  if (v2.ok()) {
    CHAOS_ASSIGN_OR_RETURN(auto cgroup, cgroup_at(CgroupVersion::kV2, *v2));
    if (exists(cgroup.control_file())) return cgroup;
  }
  if (!v1.ok() && !v2.ok() && !exists(proc_root_ + "/" + id)) return not_found("pid " + id + " is gone");
  return failed_precondition("pid " + id + ": no usable cgroup freezer (no v1 freezer controller mounted at " +
                             cgroup_root_ + "/freezer, no cgroup.freeze in its v2 cgroup)");
}

Status CgroupFreezer::freeze(const FreezerCgroup& cgroup) const {
  return write_cgroup_file(cgroup.control_file(), cgroup.version == CgroupVersion::kV1 ? "FROZEN\n" : "1\n");
}

Status CgroupFreezer::thaw(const FreezerCgroup& cgroup) const {
  const Status thawed = write_cgroup_file(cgroup.control_file(), cgroup.version == CgroupVersion::kV1 ? "THAWED\n" : "0\n");
  return thawed.code() == StatusCode::kNotFound ? Status{} : thawed;
}

StatusOr<FreezerState> CgroupFreezer::state(const FreezerCgroup& cgroup) const {
  if (!exists(cgroup.directory)) return FreezerState::kGone;
  if (cgroup.version == CgroupVersion::kV1) {
    const auto text = read_bounded(cgroup.control_file(), kMaxControlFileBytes);
    if (!text) {
      if (!exists(cgroup.directory)) return FreezerState::kGone;  // removed between the two looks
      return failed_precondition(cgroup.control_file() + ": cannot be read");
    }
    const std::string value = trimmed(*text);
    if (value == "THAWED") return FreezerState::kThawed;
    if (value == "FREEZING") return FreezerState::kFreezing;
    if (value == "FROZEN") return FreezerState::kFrozen;
    return failed_precondition(cgroup.control_file() + ": unexpected state '" + value + "'");
  }
  const std::string events_file = cgroup.directory + "/" + kV2EventsFile;
  const auto requested = read_bounded(cgroup.control_file(), kMaxControlFileBytes);
  const auto events = read_bounded(events_file, kMaxControlFileBytes);
  if (!requested || !events) {
    if (!exists(cgroup.directory)) return FreezerState::kGone;
    return failed_precondition(events_file + ": cannot be read");
  }
  bool frozen = false;
  std::istringstream lines(*events);
  std::string line;
  while (std::getline(lines, line)) {
    if (trimmed(line) == "frozen 1") frozen = true;
  }
  if (frozen) return FreezerState::kFrozen;
  return trimmed(*requested) == "1" ? FreezerState::kFreezing : FreezerState::kThawed;
}

std::vector<int> CgroupFreezer::processes(const FreezerCgroup& cgroup) const {
  const auto text = read_bounded(cgroup.directory + "/cgroup.procs", kMaxCgroupTasksBytes);
  return text ? parse_pid_lines(*text) : std::vector<int>{};
}

std::vector<int> CgroupFreezer::threads(const FreezerCgroup& cgroup) const {
  const char* file = cgroup.version == CgroupVersion::kV1 ? "/tasks" : "/cgroup.threads";
  const auto text = read_bounded(cgroup.directory + file, kMaxCgroupTasksBytes);
  return text ? parse_pid_lines(*text) : std::vector<int>{};
}

char CgroupFreezer::task_state(int tid) const {
  const auto stat = ProcReader(proc_root_).stat(tid);
  return stat ? stat->state : '?';
}

}  // namespace chaos::agent
