#include "common/clock.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

namespace chaos {
namespace {

TEST(FakeClock, MovesOnlyWhenAdvanced) {
  FakeClock clock;
  const auto start = clock.steady_now();
  const auto wall_start = clock.wall_now();
  EXPECT_EQ(clock.steady_now(), start);
  clock.advance(std::chrono::seconds(5));
  EXPECT_EQ(clock.steady_now() - start, std::chrono::seconds(5));
  EXPECT_EQ(clock.wall_now() - wall_start, std::chrono::seconds(5));
}

TEST(FakeClock, SleeperWakesWhenTimeReachesDeadline) {
  FakeClock clock;
  const auto deadline = clock.steady_now() + std::chrono::seconds(10);
  bool woke = false;
  std::thread sleeper([&] {
    clock.sleep_until(deadline);
    woke = clock.steady_now() >= deadline;
  });
  clock.advance(std::chrono::seconds(10));
  sleeper.join();
  EXPECT_TRUE(woke);
}

TEST(SystemClock, WakeAllInterruptsALongSleep) {
  SystemClock clock;
  std::atomic<bool> returned{false};
  std::thread sleeper([&] {
    clock.sleep_until(clock.steady_now() + std::chrono::hours(1));
    returned = true;
  });
  // A wake before the sleeper starts waiting is lost, so keep waking until it
  // returns; without wake_all it would sleep for an hour and the test times out.
  while (!returned) {
    clock.wake_all();
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  sleeper.join();
  EXPECT_TRUE(returned);
}

}  // namespace
}  // namespace chaos
