#include "agent/open_file_limit.h"

#include <gtest/gtest.h>

namespace chaos::agent {
namespace {

TEST(OpenFileLimit, RaisesTheSoftLimitToTheHardOne) {
  rlimit saved{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &saved), 0);
  if (saved.rlim_max < 128) GTEST_SKIP() << "hard limit too low to lower the soft one";
  rlimit low = saved;
  low.rlim_cur = 100;
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &low), 0);
  const auto raised = raise_open_file_limit();
  rlimit now{};
  ::getrlimit(RLIMIT_NOFILE, &now);
  ::setrlimit(RLIMIT_NOFILE, &saved);
  ASSERT_TRUE(raised.ok()) << raised.status().message();
  EXPECT_EQ(raised->before, 100u);
  EXPECT_EQ(raised->after, saved.rlim_max);
  EXPECT_EQ(now.rlim_cur, saved.rlim_max);
}

}  // namespace
}  // namespace chaos::agent
