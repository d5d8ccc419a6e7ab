#include "agent/faults/stress/stress_cgroup.h"

#include <sys/stat.h>

#include <sstream>

#include "common/cgroup_file.h"
#include "common/proc_reader.h"

namespace chaos::agent::stress {

namespace {

// memory.oom_control and memory.events are a few short lines.
constexpr std::size_t kStressCgroupControlBytes = 4096;
// /proc/PID/cgroup: a line per hierarchy; cgroup.procs: a pid a line.
constexpr std::size_t kStressProcCgroupBytes = 64 * 1024;
constexpr std::size_t kStressCgroupProcsBytes = 1024 * 1024;

bool stress_cgroup_exists(const std::string& path) {
  struct stat info {};
  return ::stat(path.c_str(), &info) == 0;
}

bool controllers_include(const std::string& controllers, const std::string& wanted) {
  std::istringstream names(controllers);
  std::string name;
  while (std::getline(names, name, ',')) {
    if (name == wanted) return true;
  }
  return false;
}

}  // namespace

StressCgroups::StressCgroups(std::string cgroup_root, std::string proc_root)
    : cgroup_root_(std::move(cgroup_root)), proc_root_(std::move(proc_root)) {}

StatusOr<StressCgroup> StressCgroups::cgroup_of(int pid, StressResource resource) const {
  const std::string file = proc_root_ + "/" + std::to_string(pid) + "/cgroup";
  const auto text = read_bounded(file, kStressProcCgroupBytes);
  if (!text) return not_found(file + ": cannot be read (the process is gone)");
  const std::string wanted = resource == StressResource::kCpu ? "cpu" : "memory";
  std::optional<std::string> v2_path;
  std::istringstream lines(*text);
  std::string line;
  // "4:cpu,cpuacct:/system.slice/nats.service" and "0::/system.slice/...".
  while (std::getline(lines, line)) {
    const auto first = line.find(':');
    const auto second = first == std::string::npos ? std::string::npos : line.find(':', first + 1);
    if (second == std::string::npos) continue;
    const std::string controllers = line.substr(first + 1, second - first - 1);
    const std::string path = line.substr(second + 1);
    if (!check_cgroup_path(path).ok()) continue;
    if (controllers.empty() && line.compare(0, first, "0") == 0) {
      v2_path = path;
      continue;
    }
    const std::string directory = cgroup_root_ + "/" + controllers + (path == "/" ? "" : path);
    if (controllers_include(controllers, wanted) && stress_cgroup_exists(directory + "/cgroup.procs")) {
      return StressCgroup{"v1 " + controllers, path, directory};
    }
  }
  if (v2_path) {
    const std::string unified = cgroup_root_ + "/unified";
    const std::string mount = stress_cgroup_exists(unified + "/cgroup.controllers") ? unified : cgroup_root_;
    const std::string directory = mount + (*v2_path == "/" ? "" : *v2_path);
    if (stress_cgroup_exists(directory + "/cgroup.procs")) return StressCgroup{"v2", *v2_path, directory};
  }
  return failed_precondition(file + ": no cgroup with the " + wanted + " controller (v1) and no v2 cgroup under " +
                             cgroup_root_);
}

Status StressCgroups::place(const StressCgroup& cgroup, int pid) const {
  const std::string file = cgroup.directory + "/cgroup.procs";
  const Status written = write_cgroup_file(file, std::to_string(pid) + "\n");
  if (written.ok()) return {};
  return failed_precondition("cannot move pid " + std::to_string(pid) + " into its cgroup: " + written.message());
}

std::vector<int> StressCgroups::processes(const StressCgroup& cgroup) const {
  const auto text = read_bounded(cgroup.directory + "/cgroup.procs", kStressCgroupProcsBytes);
  return text ? parse_pid_lines(*text) : std::vector<int>{};
}

std::optional<std::uint64_t> StressCgroups::oom_kills(const StressCgroup& cgroup) const {
  const char* file = cgroup.hierarchy == "v2" ? "/memory.events" : "/memory.oom_control";
  const auto text = read_bounded(cgroup.directory + file, kStressCgroupControlBytes);
  if (!text) return std::nullopt;
  std::istringstream lines(*text);
  std::string key;
  std::uint64_t value = 0;
  while (lines >> key >> value) {
    if (key == "oom_kill") return value;
  }
  return std::nullopt;
}

}  // namespace chaos::agent::stress
