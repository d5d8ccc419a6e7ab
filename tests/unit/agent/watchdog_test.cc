// The watchdog sleeps until the registry's next deadline, or one heartbeat
// when nothing is due, and a deadline that appears while it sleeps (an
// inject, a failed revert) wakes it at once. Tested on a clock whose
// sleepers wake only at their deadline or on wake_all(), as with real time
// (FakeClock::advance wakes every sleeper, which would hide a missed wake).
// Also: what tick() asks for, and that the registry wakes the clock.
#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "agent/watchdog.h"
#include "tests/unit/agent/fault_registry_fixture.h"

namespace chaos::agent {
namespace {

class DeadlineClock final : public Clock {
 public:
  SteadyTime steady_now() const override {
    std::lock_guard lock(mutex_);
    return steady_;
  }
  WallTime wall_now() const override {
    std::lock_guard lock(mutex_);
    return wall_;
  }
  void sleep_until(SteadyTime deadline) override { sleep_unless_woken(deadline, wake_ticket()); }
  void wake_all() override {
    {
      std::lock_guard lock(mutex_);
      ++generation_;
    }
    changed_.notify_all();
  }
  std::uint64_t wake_ticket() const override {
    std::lock_guard lock(mutex_);
    return generation_;
  }
  void sleep_unless_woken(SteadyTime deadline, std::uint64_t ticket) override {
    std::unique_lock lock(mutex_);
    last_deadline_ = deadline;
    ++sleeps_;
    changed_.notify_all();
    changed_.wait(lock, [&] { return steady_ >= deadline || generation_ != ticket; });
  }
  void advance(Duration by) {
    {
      std::lock_guard lock(mutex_);
      steady_ += by;
      wall_ += std::chrono::duration_cast<WallTime::duration>(by);
    }
    changed_.notify_all();
  }
  // Waits (10 s at most) until the sleeps so far number at least `count`;
  // returns the deadline of the latest one.
  std::optional<Duration> wait_for_sleeps(int count) {
    std::unique_lock lock(mutex_);
    if (!changed_.wait_for(lock, std::chrono::seconds(10), [&] { return sleeps_ >= count; })) return std::nullopt;
    return last_deadline_ - steady_;
  }
  int sleeps() const {
    std::lock_guard lock(mutex_);
    return sleeps_;
  }

 private:
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  SteadyTime steady_ = SteadyTime{} + std::chrono::hours(1);
  WallTime wall_ = WallTime{} + std::chrono::seconds(1'800'000'000);
  std::uint64_t generation_ = 0;
  SteadyTime last_deadline_{};
  int sleeps_ = 0;
};

template <typename Predicate>
bool watchdog_eventually(Predicate predicate) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline) {
    if (predicate()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return predicate();
}

class WatchdogTest : public FaultRegistryTest {
 protected:
  void SetUp() override {
    FaultRegistryTest::SetUp();
    FaultRegistryOptions options;
    options.node_name = "node-a";
    options.log = [](const std::string&) {};
    registry_on_deadlines_ = std::make_unique<FaultRegistry>(deadline_clock_, *journal_, metrics_, options);
    registry_on_deadlines_->add_kind(std::make_unique<FakeFaultKind>(kind_));
  }
  void TearDown() override {
    watchdog_.stop();
    registry_on_deadlines_.reset();
    FaultRegistryTest::TearDown();
  }
  void start() { watchdog_.start(); }

  DeadlineClock deadline_clock_;
  std::unique_ptr<FaultRegistry> registry_on_deadlines_;
  // A heartbeat of an hour: only deadlines and wake-ups end its sleeps here.
  Watchdog watchdog_{deadline_clock_, std::chrono::hours(1), [this] { return registry_on_deadlines_->tick(); }};
};

TEST_F(WatchdogTest, AnIdleWatchdogSleepsItsWholeHeartbeat) {
  start();
  EXPECT_EQ(deadline_clock_.wait_for_sleeps(1), std::optional<Duration>(std::chrono::hours(1)));
}

TEST_F(WatchdogTest, ALiveFaultIsTickedEveryTickInterval) {
  ASSERT_TRUE(registry_on_deadlines_->inject(command(60s)).ok());
  start();
  EXPECT_EQ(deadline_clock_.wait_for_sleeps(1), std::optional<Duration>(100ms));
  deadline_clock_.advance(100ms);
  EXPECT_EQ(deadline_clock_.wait_for_sleeps(2), std::optional<Duration>(100ms));
}

TEST_F(WatchdogTest, AFaultInjectedWhileTheWatchdogSleepsItsHeartbeatEndsAtItsTtl) {
  start();
  ASSERT_TRUE(deadline_clock_.wait_for_sleeps(1).has_value());
  auto fault = registry_on_deadlines_->inject(command(1s));
  ASSERT_TRUE(fault.ok());
  // Time moves to the TTL; only a watchdog the inject woke sleeps until then.
  deadline_clock_.advance(1s);
  EXPECT_TRUE(watchdog_eventually([&] { return registry_on_deadlines_->live_count() == 0; }))
      << "the watchdog slept through the TTL";
  std::lock_guard lock(kind_->mutex);
  EXPECT_EQ(kind_->reverted, std::vector<std::string>{fault->id()});
}

TEST_F(WatchdogTest, ARevertThatFailedIsRetriedWithoutWaitingForTheHeartbeat) {
  auto fault = registry_on_deadlines_->inject(command(1s));
  ASSERT_TRUE(fault.ok());
  kind_->revert_failures = 1;
  start();
  ASSERT_TRUE(deadline_clock_.wait_for_sleeps(1).has_value());
  deadline_clock_.advance(1s);  // the TTL: the revert fails (on the watchdog's thread here)
  ASSERT_TRUE(watchdog_eventually([&] {
    auto live = registry_on_deadlines_->list("", false);
    return live.size() == 1 && live[0].state() == v1::FAULT_STATE_REVERT_FAILED;
  }));
  // The failure's retry instant woke the watchdog, which sleeps until it.
  EXPECT_TRUE(watchdog_eventually([&] { return deadline_clock_.wait_for_sleeps(3) == std::optional<Duration>(1s); }));
  deadline_clock_.advance(1s);
  EXPECT_TRUE(watchdog_eventually([&] { return registry_on_deadlines_->live_count() == 0; }));
}

// ---- what tick() asks for, and the wake-ups (FakeClock, no thread)

// A tick that throws is retried one tick interval later, not a heartbeat
// (here an hour) later: a TTL due meanwhile still ends the fault on time.
TEST_F(WatchdogTest, ATickThatThrowsIsRetriedAfterATickInterval) {
  auto fault = registry_on_deadlines_->inject(command(1s));
  ASSERT_TRUE(fault.ok());
  std::atomic<bool> throw_once{true};
  Watchdog watchdog(deadline_clock_, std::chrono::hours(1), [&] {
    if (throw_once.exchange(false)) throw std::runtime_error("tick failed once");
    return registry_on_deadlines_->tick();
  });
  watchdog.start();
  EXPECT_EQ(deadline_clock_.wait_for_sleeps(1), std::optional<Duration>(100ms)) << "slept a heartbeat after a throw";
  deadline_clock_.advance(1s);
  EXPECT_TRUE(watchdog_eventually([&] { return registry_on_deadlines_->live_count() == 0; }))
      << "the fault outlived its TTL";
  watchdog.stop();
}

TEST_F(FaultRegistryTest, TickAsksForNothingWhenNothingIsLive) {
  EXPECT_EQ(registry_->tick(), SteadyTime::max());
}

TEST_F(FaultRegistryTest, TickAsksForTheNextOnTickOfALiveFaultAndForAnEarlierTtl) {
  ASSERT_TRUE(registry_->inject(command(60s)).ok());
  EXPECT_EQ(registry_->tick(), clock_.steady_now() + 100ms);
  ASSERT_TRUE(registry_->inject(command(50ms)).ok());
  EXPECT_EQ(registry_->tick(), clock_.steady_now() + 50ms);
}

TEST_F(FaultRegistryTest, TickAsksForALeaseExpiryWithNoFaultLive) {
  auto fault = registry_->inject(command(60s, "lease-1", 30s));
  ASSERT_TRUE(fault.ok());
  ASSERT_TRUE(registry_->revert(fault->id()).ok());
  EXPECT_EQ(registry_->tick(), clock_.steady_now() + 30s);
}

TEST_F(FaultRegistryTest, TickAsksForTheRetryOfAFailedRevert) {
  auto fault = registry_->inject(command(60s));
  ASSERT_TRUE(fault.ok());
  kind_->revert_failures = 1;
  EXPECT_FALSE(registry_->revert(fault->id()).ok());
  EXPECT_EQ(registry_->tick(), clock_.steady_now() + 1s);
}

TEST_F(FaultRegistryTest, ALeaseRenewalWakesTheClockOnlyWhenTheExpiryMovesEarlier) {
  ASSERT_TRUE(registry_->inject(command(60s, "lease-1", 30s)).ok());
  const std::uint64_t ticket = clock_.wake_ticket();
  ASSERT_TRUE(registry_->renew_lease("lease-1", 40s).ok());
  EXPECT_EQ(clock_.wake_ticket(), ticket) << "a later expiry needs no wake";
  ASSERT_TRUE(registry_->renew_lease("lease-1", 1s).ok());
  EXPECT_NE(clock_.wake_ticket(), ticket) << "an earlier one does";
}

TEST_F(FaultRegistryTest, InjectRenewAndFailedRevertWakeTheClock) {
  std::uint64_t ticket = clock_.wake_ticket();
  auto fault = registry_->inject(command(60s, "lease-1", 30s));
  ASSERT_TRUE(fault.ok());
  EXPECT_NE(clock_.wake_ticket(), ticket) << "inject";
  ticket = clock_.wake_ticket();
  ASSERT_TRUE(registry_->renew_lease("lease-1", 1s).ok());
  EXPECT_NE(clock_.wake_ticket(), ticket) << "renew_lease";
  kind_->revert_failures = 1;
  ticket = clock_.wake_ticket();
  EXPECT_FALSE(registry_->revert(fault->id()).ok());
  EXPECT_NE(clock_.wake_ticket(), ticket) << "failed revert";
}

}  // namespace
}  // namespace chaos::agent
