// The root filesystem of the lab's broker containers, built locally (no
// image registry): nats-server as /usr/bin/nats-server with the shared
// libraries ldd names for it (at their host paths), and busybox-static as
// /bin/busybox (and /bin/sh) so a shell exists inside for debugging.
#pragma once

#include <string>
#include <vector>

#include "common/command_runner.h"
#include "common/status.h"
#include "lab/lab_layout.h"

namespace chaos::lab {

// Builds layout.rootfs_dir() from the host's files (replacing an old one).
Status build_broker_rootfs(const LabLayout& layout, CommandRunner& runner, const std::string& nats_server,
                           const std::string& busybox);

// Absolute library paths in `ldd` output ("libc.so.6 => /lib/.../libc.so.6
// (0x...)" and "/lib64/ld-linux-x86-64.so.2 (0x...)"); none for the vDSO
// or a static binary.
std::vector<std::string> shared_libraries_in_ldd(const std::string& ldd_output);

}  // namespace chaos::lab
