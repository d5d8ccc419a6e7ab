// SpinPolicy lives in nfqueue_engine.h; the engine itself is tested in
// tests/integration/network (it needs a queue).
#include <gtest/gtest.h>

#include "agent/faults/network/engine/nfqueue_engine.h"
#include "tests/unit/agent/faults/network/engine_test_time.h"

namespace chaos::agent::network {
namespace {

using std::chrono::microseconds;
using std::chrono::milliseconds;

using engine_test::kStart;

TEST(SpinPolicyTest, SpinsOnlyBeforeAReleaseWithRoomToSleepFirst) {
  SpinPolicy policy;
  const Duration margin = microseconds(250);
  EXPECT_TRUE(policy.may_spin(kStart, kStart + milliseconds(10), margin));
  // Releases just over the margin apart: spinning would be most of the time.
  EXPECT_FALSE(policy.may_spin(kStart, kStart + microseconds(300), margin));
  EXPECT_FALSE(policy.may_spin(kStart, kStart + milliseconds(10), Duration{0}));
}

TEST(SpinPolicyTest, SpinningStopsForTheRestOfTheWindowOnceItsBudgetIsSpent) {
  SpinPolicy policy;
  const Duration margin = microseconds(250);
  SteadyTime now = kStart;
  int spins = 0;
  // Releases 1 ms apart for 100 ms, each spun for its whole margin.
  for (int i = 0; i < 100; ++i, now += milliseconds(1)) {
    if (policy.may_spin(now, now + milliseconds(1), margin)) {
      ++spins;
      policy.spent(now + margin, margin);
    }
  }
  EXPECT_EQ(spins, 20);  // 5 ms of 100
  EXPECT_TRUE(policy.may_spin(now + milliseconds(1), now + milliseconds(2), margin));  // a new window
}

}  // namespace
}  // namespace chaos::agent::network
