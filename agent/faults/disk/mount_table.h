// Which mount a path is on, from /proc/self/mountinfo: disk.fill's policy
// compares the mount point against [policy] disk_fill_protected. Parsing is
// pure and bounded; the reader is a parameter so tests feed crafted text.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "common/status.h"

namespace chaos::agent::disk {

// More is not a real mount table; the rest is ignored.
inline constexpr std::size_t kMaxMountinfoBytes = 4 * 1024 * 1024;
inline constexpr std::size_t kMaxMountinfoLines = 20000;

struct MountEntry {
  unsigned major = 0;
  unsigned minor = 0;
  std::string mount_point;  // octal escapes (\040) decoded
  std::string fs_type;
  std::string source;
};

// The well-formed lines of mountinfo text, at most kMaxMountinfoLines.
std::vector<MountEntry> parse_mountinfo(const std::string& text);

// The mount holding `canonical_path` (absolute, symlinks resolved) on device
// major:minor: the longest mount point that is a prefix of the path among
// the mounts of that device, else (a device mountinfo does not name, as on
// btrfs subvolumes) among all mounts. NOT_FOUND when none is.
StatusOr<MountEntry> mount_holding(const std::vector<MountEntry>& mounts, const std::string& canonical_path,
                                   unsigned major, unsigned minor);

// Reads the mount table text ("/proc/self/mountinfo" in production).
using MountinfoReader = std::function<StatusOr<std::string>()>;
MountinfoReader system_mountinfo_reader();

// The mount holding `path` (which must exist): resolves symlinks, stats it
// for its device, reads the table through `reader`.
StatusOr<MountEntry> find_mount(const std::string& path, const MountinfoReader& reader);

}  // namespace chaos::agent::disk
