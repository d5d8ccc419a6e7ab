#include "agent/faults/disk/mount_table.h"

#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <sstream>

#include "common/proc_reader.h"

namespace chaos::agent::disk {

namespace {

// mountinfo escapes space, tab, newline and backslash as \ooo.
std::string disk_mountinfo_unescaped(const std::string& field) {
  std::string out;
  out.reserve(field.size());
  for (std::size_t i = 0; i < field.size(); ++i) {
    if (field[i] == '\\' && i + 3 < field.size() && field[i + 1] >= '0' && field[i + 1] <= '3' &&
        field[i + 2] >= '0' && field[i + 2] <= '7' && field[i + 3] >= '0' && field[i + 3] <= '7') {
      out.push_back(static_cast<char>((field[i + 1] - '0') * 64 + (field[i + 2] - '0') * 8 + (field[i + 3] - '0')));
      i += 3;
    } else {
      out.push_back(field[i]);
    }
  }
  return out;
}

bool disk_mount_point_contains(const std::string& mount_point, const std::string& path) {
  if (mount_point == "/") return !path.empty() && path.front() == '/';
  return path.compare(0, mount_point.size(), mount_point) == 0 &&
         (path.size() == mount_point.size() || path[mount_point.size()] == '/');
}

}  // namespace

std::vector<MountEntry> parse_mountinfo(const std::string& text) {
  // "36 35 98:0 /mnt1 /mnt/parent rw,noatime master:1 - ext3 /dev/root rw,errors=continue"
  std::vector<MountEntry> mounts;
  std::istringstream lines(text);
  std::string line;
  while (mounts.size() < kMaxMountinfoLines && std::getline(lines, line)) {
    std::istringstream fields(line);
    std::string id, parent, device, root, mount_point, options, field;
    if (!(fields >> id >> parent >> device >> root >> mount_point >> options)) continue;
    while (fields >> field && field != "-") {
    }
    MountEntry entry;
    if (field != "-" || !(fields >> entry.fs_type >> entry.source)) continue;
    if (std::sscanf(device.c_str(), "%u:%u", &entry.major, &entry.minor) != 2) continue;
    entry.mount_point = disk_mountinfo_unescaped(mount_point);
    if (entry.mount_point.empty() || entry.mount_point.front() != '/') continue;
    mounts.push_back(std::move(entry));
  }
  return mounts;
}

StatusOr<MountEntry> mount_holding(const std::vector<MountEntry>& mounts, const std::string& canonical_path,
                                   unsigned major, unsigned minor) {
  const MountEntry* best = nullptr;
  for (bool same_device : {true, false}) {
    for (const auto& mount : mounts) {
      if (same_device && (mount.major != major || mount.minor != minor)) continue;
      if (!disk_mount_point_contains(mount.mount_point, canonical_path)) continue;
      // The later of two mounts on the same point is the visible one.
      if (best == nullptr || mount.mount_point.size() >= best->mount_point.size()) best = &mount;
    }
    if (best != nullptr) return *best;
  }
  return not_found("no mount in the mount table holds " + canonical_path);
}

MountinfoReader system_mountinfo_reader() {
  return []() -> StatusOr<std::string> {
    auto text = read_bounded("/proc/self/mountinfo", kMaxMountinfoBytes);
    if (!text) return internal_error("cannot read /proc/self/mountinfo");
    return *text;
  };
}

StatusOr<MountEntry> find_mount(const std::string& path, const MountinfoReader& reader) {
  std::error_code error;
  const std::string canonical = std::filesystem::canonical(path, error).string();
  if (error) return not_found(path + ": " + error.message());
  struct stat info {};
  if (::stat(canonical.c_str(), &info) != 0) return not_found(canonical + ": " + std::strerror(errno));
  CHAOS_ASSIGN_OR_RETURN(const std::string text, reader());
  return mount_holding(parse_mountinfo(text), canonical, major(info.st_dev), minor(info.st_dev));
}

}  // namespace chaos::agent::disk
