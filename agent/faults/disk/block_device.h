// The block device the kernel's I/O throttle must name for a path: the
// device of the filesystem holding it (st_dev), or, when that is a
// partition, the whole disk it belongs to, because the throttle accepts
// whole disks only (a loop device is a whole disk). A path on a filesystem
// without a block device (tmpfs, overlayfs, NFS, a btrfs subvolume's
// anonymous device) cannot be throttled: FAILED_PRECONDITION saying so.
#pragma once

#include <string>

#include "agent/faults/disk/io_throttle_rules.h"

namespace chaos::agent::disk {

struct BlockDevice {
  DeviceNumber filesystem;  // st_dev of the path
  DeviceNumber throttled;   // the whole disk: what the throttle files name
  std::string name;         // "loop0", "vda", from sysfs' uevent; may be empty
};

// `path` is stat()ed as given, or, with a `root` (a container's: its
// /proc/PID/root), inside that root as its "/": absolute symbolic links and
// ".." stop at it and magic links are refused (openat2 RESOLVE_IN_ROOT), so
// a link the container made cannot name a host path. `sys_root` is where
// sysfs is ("/sys"). NOT_FOUND when the path does not exist.
StatusOr<BlockDevice> block_device_of(const std::string& path, const std::string& sys_root = "/sys",
                                      const std::string& root = "");

}  // namespace chaos::agent::disk
