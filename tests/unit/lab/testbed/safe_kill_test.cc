// The tests' one signal helper: as root a stray kill(-1, SIGKILL) would end
// every process on the machine. Signal 0 only checks deliverability, so
// these checks are harmless even when the guard is broken.
#include "lab/testbed/safe_kill.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

namespace chaos::test_support {
namespace {

TEST(SafeKill, RefusesGroupsInitItselfItsGroupAndItsParent) {
  for (const pid_t pid : {pid_t{-1}, pid_t{0}, pid_t{-::getpgrp()}, pid_t{1}, ::getpid(), ::getpgrp(), ::getppid()}) {
    errno = 0;
    EXPECT_EQ(safe_kill(pid, 0), -1) << pid;
    EXPECT_EQ(errno, EINVAL) << pid;
    EXPECT_TRUE(refused_signal_target(pid)) << pid;
  }
}

TEST(SafeKill, SignalsAChildOfTheTest) {
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::pause();
    ::_exit(0);
  }
  EXPECT_FALSE(refused_signal_target(child));
  EXPECT_EQ(safe_kill(child, SIGKILL), 0);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
}

}  // namespace
}  // namespace chaos::test_support
