// Writing cgroup control files and checking the cgroup paths read from
// /proc/PID/cgroup: shared by the faults that move processes between
// cgroups or set their limits (container.pause, disk.throttle, stress.*).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "common/status.h"

namespace chaos {

inline constexpr std::size_t kMaxCgroupPathBytes = 4096;

// Absolute, bounded, no NUL and no "." or ".." component: a path that can
// only name a cgroup below its hierarchy's root. FAILED_PRECONDITION saying
// which rule it broke otherwise.
Status check_cgroup_path(std::string_view path);

// ENOENT, ENODEV, ENOTDIR: the cgroup (or the process written to it) is gone.
bool cgroup_gone_errno(int error);

// One write(2) of `value`, since the kernel parses a control file write
// whole. NOT_FOUND when the cgroup is gone (or, writing a pid, the process
// is: ESRCH), PERMISSION_DENIED when the file cannot be opened for writing,
// INTERNAL for any other failed or short write. The message names the file
// and the value.
Status write_cgroup_file(const std::string& file, std::string_view value);

}  // namespace chaos
