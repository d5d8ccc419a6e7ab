#include "agent/watchdog.h"

#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>

namespace chaos::agent {
namespace {

using namespace std::chrono_literals;

// Counts ticks; waits for a count with a generous bound so a broken
// watchdog fails the test instead of hanging it.
class TickCounter {
 public:
  void tick() {
    {
      std::lock_guard lock(mutex_);
      ++ticks_;
    }
    changed_.notify_all();
  }
  bool wait_for(int ticks) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, 30s, [&] { return ticks_ >= ticks; });
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  int ticks_ = 0;
};

TEST(Watchdog, AnIdlePauseEndsAtOnceWhenWoken) {
  FakeClock clock;
  TickCounter counter;
  Watchdog watchdog(clock, 100ms, [&] { counter.tick(); });
  watchdog.set_idle_pacing(std::chrono::hours(1), [] { return true; });
  watchdog.start();
  ASSERT_TRUE(counter.wait_for(1));
  watchdog.wake();  // a request arrived: without this the next tick is an hour away
  EXPECT_TRUE(counter.wait_for(2));
  watchdog.stop();
}

TEST(Watchdog, AWakeBeforeTheIdlePauseIsNotLost) {
  FakeClock clock;
  TickCounter counter;
  Watchdog watchdog(clock, 100ms, [&] { counter.tick(); });
  watchdog.set_idle_pacing(std::chrono::hours(1), [] { return true; });
  watchdog.wake();  // lands before the first pause begins
  watchdog.start();
  EXPECT_TRUE(counter.wait_for(2));
  watchdog.stop();
}

TEST(Watchdog, StopEndsAnIdlePause) {
  FakeClock clock;
  TickCounter counter;
  Watchdog watchdog(clock, 100ms, [&] { counter.tick(); });
  watchdog.set_idle_pacing(std::chrono::hours(1), [] { return true; });
  watchdog.start();
  ASSERT_TRUE(counter.wait_for(1));
  watchdog.stop();  // returns instead of waiting out the hour
}

}  // namespace
}  // namespace chaos::agent
