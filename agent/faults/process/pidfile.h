// Reading a pid file named in a request. The agent reads it while it holds
// the lock every other fault's revert needs, so nothing here may block or
// have side effects: a FIFO would block open() until a writer came, a
// device's open() runs its driver (opening /dev/watchdog arms the
// watchdog), a symbolic link could point anywhere. Only a small regular
// file that holds one pid is accepted.
#pragma once

#include <cstddef>
#include <string>

#include "common/status.h"

namespace chaos::agent {

// A pid file is a pid and a newline; anything longer is not one.
constexpr std::size_t kMaxPidfileBytes = 64;
constexpr std::size_t kMaxPidfilePathBytes = 4095;  // PATH_MAX without the NUL

// Static checks (no system access): absolute, at most kMaxPidfilePathBytes,
// no NUL byte. INVALID_ARGUMENT naming `field` ("process_kill.target.pidfile").
Status validate_pidfile_path(const std::string& path, const std::string& field);

// The pid in the file at `path`. NOT_FOUND when the file does not exist;
// FAILED_PRECONDITION naming `field`, the path and the reason when it is not
// a regular file ("is a FIFO, not a regular file", "is a symbolic link, not
// a regular file"), is longer than kMaxPidfileBytes, or does not hold
// exactly one pid (optional blanks around the digits, nothing else).
StatusOr<int> read_pidfile(const std::string& path, const std::string& field);

// read_pidfile for a container's pid file: `path` is resolved inside the
// directory `root` ("/proc/PID/root") as if it were "/" (openat2
// RESOLVE_IN_ROOT), so no symbolic link the container made can lead the
// agent out of its filesystem. NOT_FOUND also when `root` is gone.
StatusOr<int> read_pidfile_in_root(const std::string& root, const std::string& path, const std::string& field);

// The pid in a pid file's text: digits (no sign, no leading zero, at most
// the kernel's largest pid) with optional blanks around them; otherwise
// FAILED_PRECONDITION "<what> does not hold a pid". Exposed for tests.
StatusOr<int> parse_pidfile_text(const std::string& text, const std::string& what);

}  // namespace chaos::agent
