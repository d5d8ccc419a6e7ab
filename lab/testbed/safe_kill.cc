#include "lab/testbed/safe_kill.h"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

namespace chaos::test_support {

bool refused_signal_target(pid_t pid) {
  return pid <= 1 || pid == ::getpid() || pid == ::getpgrp() || pid == ::getppid();
}

int safe_kill(pid_t pid, int signal) {
  if (refused_signal_target(pid)) {
    std::fprintf(stderr, "safe_kill: refusing to send signal %d to pid %d\n", signal, static_cast<int>(pid));
    errno = EINVAL;
    return -1;
  }
  return ::kill(pid, signal);
}

}  // namespace chaos::test_support
