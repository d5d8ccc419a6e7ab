// The one way tests send signals. As root, kill(-1, SIGKILL) kills every
// process on the machine and kill(0, ...) the test's own process group, so
// a pid that is -1 after a failed fork or after the child was reaped must
// never reach kill(). safe_kill() refuses, without signalling anything:
//   pid <= 0         (process groups and "every process")
//   pid 1            (init)
//   the test itself, its process group leader and its parent
// A refusal returns -1 with errno EINVAL and is reported on stderr, so the
// caller's check (e.g. ASSERT_EQ(safe_kill(...), 0)) fails visibly.
#pragma once

#include <sys/types.h>

namespace chaos::test_support {

int safe_kill(pid_t pid, int signal);

// Whether safe_kill() would refuse `pid` (exposed for its own test).
bool refused_signal_target(pid_t pid);

}  // namespace chaos::test_support
