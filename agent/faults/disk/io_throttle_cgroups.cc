#include "agent/faults/disk/io_throttle_cgroups.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <sstream>

#include "common/cgroup_file.h"
#include "common/proc_reader.h"

namespace chaos::agent::disk {

namespace {

// A throttle file holds a line per throttled device; io.stat a line per
// device with I/O.
constexpr std::size_t kIoThrottleFileBytes = 64 * 1024;
// The recovery walk stops here: deeper or larger trees are not cgroup
// layouts a node runs.
constexpr int kIoThrottleWalkDepth = 16;
constexpr std::size_t kIoThrottleWalkDirectories = 20000;

bool io_cgroup_path_exists(const std::string& path) {
  struct stat info {};
  return ::stat(path.c_str(), &info) == 0;
}

}  // namespace

IoThrottleCgroups::IoThrottleCgroups(std::string cgroup_root, std::string proc_root)
    : cgroup_root_(std::move(cgroup_root)), proc_root_(std::move(proc_root)) {}

std::string IoThrottleCgroups::mount(CgroupVersion version) const {
  if (version == CgroupVersion::kV1) return cgroup_root_ + "/blkio";
  const std::string unified = cgroup_root_ + "/unified";
  return io_cgroup_path_exists(unified + "/cgroup.controllers") ? unified : cgroup_root_;
}

StatusOr<CgroupVersion> IoThrottleCgroups::version() const {
  if (io_cgroup_path_exists(cgroup_root_ + "/blkio/blkio.throttle.write_bps_device")) return CgroupVersion::kV1;
  const auto controllers = read_bounded(mount(CgroupVersion::kV2) + "/cgroup.controllers", kIoThrottleFileBytes);
  if (controllers) {
    std::istringstream words(*controllers);
    std::string word;
    while (words >> word) {
      if (word == "io") return CgroupVersion::kV2;
    }
  }
  return failed_precondition("no block I/O throttle: no cgroup v1 blkio controller at " + cgroup_root_ +
                             "/blkio and no io controller in cgroup v2's " + mount(CgroupVersion::kV2) +
                             "/cgroup.controllers");
}

StatusOr<IoCgroup> IoThrottleCgroups::cgroup_at(CgroupVersion version, const std::string& path) const {
  CHAOS_RETURN_IF_ERROR(check_cgroup_path(path));
  IoCgroup cgroup;
  cgroup.version = version;
  cgroup.path = path;
  cgroup.directory = mount(version) + (path == "/" ? "" : path);
  return cgroup;
}

StatusOr<IoCgroup> IoThrottleCgroups::child(const IoCgroup& parent, const std::string& name) const {
  if (name.empty() || name.find('/') != std::string::npos || name == "." || name == "..") {
    return invalid_argument("cgroup name '" + name + "' is not one path component");
  }
  return cgroup_at(parent.version, (parent.path == "/" ? "" : parent.path) + "/" + name);
}

StatusOr<IoCgroup> IoThrottleCgroups::cgroup_of(const std::string& pid) const {
  CHAOS_ASSIGN_OR_RETURN(const CgroupVersion version, this->version());
  const std::string file = proc_root_ + "/" + pid + "/cgroup";
  const auto text = read_bounded(file, kMaxProcCgroupBytes);
  if (!text) return not_found(file + ": cannot be read (the process is gone)");
  std::istringstream lines(*text);
  std::string line;
  // "7:blkio:/system.slice/nats.service" and "0::/system.slice/nats.service".
  while (std::getline(lines, line)) {
    const auto first = line.find(':');
    const auto second = first == std::string::npos ? std::string::npos : line.find(':', first + 1);
    if (second == std::string::npos) continue;
    const std::string controllers = line.substr(first + 1, second - first - 1);
    const std::string path = line.substr(second + 1);
    if (version == CgroupVersion::kV2) {
      if (line.compare(0, first, "0") == 0 && controllers.empty()) return cgroup_at(version, path);
      continue;
    }
    std::istringstream names(controllers);
    std::string name;
    while (std::getline(names, name, ',')) {
      if (name == "blkio") return cgroup_at(version, path);
    }
  }
  return not_found(file + ": no " + (version == CgroupVersion::kV1 ? "blkio" : "cgroup v2") + " line");
}

bool IoThrottleCgroups::exists(const IoCgroup& cgroup) const { return io_cgroup_path_exists(cgroup.directory); }

StatusOr<ThrottleLimits> IoThrottleCgroups::limits(const IoCgroup& cgroup, DeviceNumber device) const {
  if (cgroup.version == CgroupVersion::kV2) {
    const std::string file = cgroup.directory + "/io.max";
    const auto text = read_bounded(file, kIoThrottleFileBytes);
    if (!text) {
      if (!exists(cgroup)) return not_found("cgroup " + cgroup.path + " is gone");
      return failed_precondition(file + ": cannot be read (is the io controller enabled for this cgroup?)");
    }
    auto parsed = parse_io_max(*text, device);
    if (!parsed.ok()) return parsed.status().with_context(file);
    return parsed;
  }
  ThrottleLimits limits;
  for (int index = 0; index < 4; ++index) {
    const std::string file = cgroup.directory + "/" + kBlkioThrottleFiles[index];
    const auto text = read_bounded(file, kIoThrottleFileBytes);
    if (!text) {
      if (!exists(cgroup)) return not_found("cgroup " + cgroup.path + " is gone");
      return failed_precondition(file + ": cannot be read");
    }
    auto value = parse_blkio_limit(*text, device);
    if (!value.ok()) return value.status().with_context(file);
    blkio_limit_field(limits, index) = *value;
  }
  return limits;
}

Status IoThrottleCgroups::set_limits(const IoCgroup& cgroup, DeviceNumber device,
                                     const ThrottleLimits& limits) const {
  if (cgroup.version == CgroupVersion::kV2) {
    return write_cgroup_file(cgroup.directory + "/io.max", format_io_max(device, limits));
  }
  // Each file is written even when its value is 0: 0 deletes a rule a
  // previous value left.
  for (int index = 0; index < 4; ++index) {
    CHAOS_RETURN_IF_ERROR(write_cgroup_file(cgroup.directory + "/" + kBlkioThrottleFiles[index],
                                          format_blkio_limit(device, blkio_limit_field(limits, index))));
  }
  return {};
}

IoBytes IoThrottleCgroups::bytes(const IoCgroup& cgroup, DeviceNumber device) const {
  if (cgroup.version == CgroupVersion::kV2) {
    return parse_io_stat(read_bounded(cgroup.directory + "/io.stat", kIoThrottleFileBytes).value_or(""), device);
  }
  return parse_blkio_service_bytes(
      read_bounded(cgroup.directory + "/blkio.throttle.io_service_bytes", kIoThrottleFileBytes).value_or(""), device);
}

Status IoThrottleCgroups::create(const IoCgroup& cgroup) const {
  if (::mkdir(cgroup.directory.c_str(), 0755) == 0) return {};
  const int error = errno;
  if (error == EEXIST) return already_exists("cgroup " + cgroup.directory + " exists");
  return failed_precondition("mkdir " + cgroup.directory + ": " + std::strerror(error));
}

Status IoThrottleCgroups::remove(const IoCgroup& cgroup) const {
  if (::rmdir(cgroup.directory.c_str()) == 0) return {};
  const int error = errno;
  if (cgroup_gone_errno(error)) return {};
  if (error == EBUSY || error == ENOTEMPTY) {
    return failed_precondition("cgroup " + cgroup.directory + " still holds processes");
  }
  return failed_precondition("rmdir " + cgroup.directory + ": " + std::strerror(error));
}

Status IoThrottleCgroups::move(int pid, const IoCgroup& cgroup) const {
  return write_cgroup_file(cgroup.directory + "/cgroup.procs", std::to_string(pid) + "\n");
}

std::vector<int> IoThrottleCgroups::processes(const IoCgroup& cgroup) const {
  const auto text = read_bounded(cgroup.directory + "/cgroup.procs", kMaxCgroupTasksBytes);
  return text ? parse_pid_lines(*text) : std::vector<int>{};
}

std::vector<IoCgroup> IoThrottleCgroups::find_named(CgroupVersion version, const std::string& name) const {
  std::vector<IoCgroup> found;
  const std::string root = mount(version);
  std::vector<std::pair<std::string, int>> pending{{"", 0}};  // paths below the mount, depth
  std::size_t visited = 0;
  while (!pending.empty() && visited < kIoThrottleWalkDirectories) {
    auto [relative, depth] = pending.back();
    pending.pop_back();
    ++visited;
    DIR* directory = ::opendir((root + relative).c_str());
    if (directory == nullptr) continue;
    while (const dirent* entry = ::readdir(directory)) {
      const std::string entry_name = entry->d_name;
      if (entry->d_type != DT_DIR || entry_name == "." || entry_name == "..") continue;
      const std::string path = relative + "/" + entry_name;
      if (entry_name == name) {
        auto cgroup = cgroup_at(version, path);
        if (cgroup.ok()) found.push_back(*cgroup);
      } else if (depth + 1 < kIoThrottleWalkDepth) {
        pending.emplace_back(path, depth + 1);
      }
    }
    ::closedir(directory);
  }
  return found;
}

}  // namespace chaos::agent::disk
