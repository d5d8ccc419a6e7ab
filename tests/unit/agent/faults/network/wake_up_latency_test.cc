#include "agent/faults/network/engine/wake_up_latency.h"

#include <gtest/gtest.h>

#include "tests/unit/agent/faults/network/engine_test_time.h"

namespace chaos::agent::network {
namespace {

using std::chrono::microseconds;
using engine_test::kStart;

TEST(WakeUpLatencyTest, KnowsNothingBeforeTheFirstWakeUp) {
  WakeUpLatency latency(microseconds(250));
  EXPECT_EQ(latency.typical(), Duration{0});
  EXPECT_EQ(latency.margin(), Duration{0});
}

TEST(WakeUpLatencyTest, TypicalIsTheMedianAndMarginAHighQuantileOfRecentWakeUps) {
  WakeUpLatency latency(microseconds(250));
  // 20 wake-ups 40 us late, 10 at 100 us, 2 at 200 us.
  SteadyTime armed = kStart;
  for (int late_us : {40, 100, 40, 200, 40, 100, 40, 40, 100, 40, 40, 100, 40, 40, 100, 40,
                      200, 40, 100, 40, 40, 100, 40, 40, 100, 40, 40, 100, 40, 40, 100, 40}) {
    armed += std::chrono::milliseconds(10);
    latency.observe(armed, armed + microseconds(late_us));
  }
  EXPECT_EQ(latency.typical(), microseconds(40));
  EXPECT_EQ(latency.margin(), microseconds(100));
}

TEST(WakeUpLatencyTest, MarginNeverExceedsTheSpinBound) {
  WakeUpLatency latency(microseconds(250));
  for (int i = 0; i < 40; ++i) latency.observe(kStart, kStart + microseconds(900));
  EXPECT_EQ(latency.margin(), microseconds(250));
  EXPECT_EQ(latency.typical(), microseconds(900));
}

TEST(WakeUpLatencyTest, FollowsAChangeOfLoadAndIgnoresWakeUpsBeforeTheDeadline) {
  WakeUpLatency latency(microseconds(250));
  for (std::size_t i = 0; i < WakeUpLatency::kSamples; ++i) latency.observe(kStart, kStart + microseconds(200));
  for (std::size_t i = 0; i < WakeUpLatency::kSamples; ++i) latency.observe(kStart, kStart + microseconds(20));
  latency.observe(kStart, kStart - microseconds(5));
  EXPECT_EQ(latency.typical(), microseconds(20));
  EXPECT_EQ(latency.margin(), microseconds(20));
  EXPECT_EQ(latency.observed(), 2 * WakeUpLatency::kSamples);
}

}  // namespace
}  // namespace chaos::agent::network
