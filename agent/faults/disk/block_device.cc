#include "agent/faults/disk/block_device.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <sstream>

#include "common/proc_reader.h"
#include "common/unique_fd.h"

namespace chaos::agent::disk {

namespace {

// dev and uevent in sysfs are a line or a few.
constexpr std::size_t kBlockDeviceSysfsFileBytes = 4096;

bool block_device_exists(const std::string& path) {
  struct stat info {};
  return ::stat(path.c_str(), &info) == 0;
}

std::string block_device_name(const std::string& sysfs_dir) {
  const auto uevent = read_bounded(sysfs_dir + "/uevent", kBlockDeviceSysfsFileBytes);
  if (!uevent) return "";
  std::istringstream lines(*uevent);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind("DEVNAME=", 0) == 0) return line.substr(8);
  }
  return "";
}

// stat() of `path`, or of `path` inside `root` as its "/": 0, or the errno.
int stat_in_root(const std::string& root, const std::string& path, struct stat& info) {
  if (root.empty()) return ::stat(path.c_str(), &info) == 0 ? 0 : errno;
  const UniqueFd root_fd(::open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!root_fd.valid()) return errno;
  open_how how{};
  how.flags = O_PATH | O_CLOEXEC;
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  const UniqueFd fd(static_cast<int>(::syscall(SYS_openat2, root_fd.get(), path.c_str(), &how, sizeof how)));
  if (!fd.valid()) return errno;
  return ::fstat(fd.get(), &info) == 0 ? 0 : errno;
}

}  // namespace

StatusOr<BlockDevice> block_device_of(const std::string& given_path, const std::string& sys_root,
                                      const std::string& root) {
  const std::string path = root + given_path;  // as messages name it
  struct stat info {};
  if (const int error = stat_in_root(root, given_path, info); error != 0) {
    if (error == ENOENT || error == ENOTDIR) return not_found(path + ": " + std::strerror(error));
    if (error == EXDEV || error == ELOOP) {
      return failed_precondition(path + ": leads out of the container's root or through a magic link");
    }
    return failed_precondition(path + ": " + std::strerror(error));
  }
  BlockDevice device;
  device.filesystem = {::major(info.st_dev), ::minor(info.st_dev)};
  device.throttled = device.filesystem;
  const std::string sysfs_dir = sys_root + "/dev/block/" + device.filesystem.text();
  if (!block_device_exists(sysfs_dir)) {
    return failed_precondition(path + ": its filesystem is on device " + device.filesystem.text() +
                               ", which is not a block device (tmpfs, overlayfs, a network or btrfs filesystem?)");
  }
  device.name = block_device_name(sysfs_dir);
  if (block_device_exists(sysfs_dir + "/partition")) {
    // A partition's sysfs directory sits inside its disk's.
    const auto disk = read_bounded(sysfs_dir + "/../dev", kBlockDeviceSysfsFileBytes);
    std::string text = disk.value_or("");
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
    auto whole = parse_device_number(text);
    if (!whole.ok()) {
      return failed_precondition(path + ": partition " + device.filesystem.text() + ": its disk's device number (" +
                                 sysfs_dir + "/../dev) cannot be read");
    }
    device.throttled = *whole;
    const std::string disk_name = block_device_name(sysfs_dir + "/..");
    if (!disk_name.empty()) device.name = disk_name;
  }
  return device;
}

}  // namespace chaos::agent::disk
