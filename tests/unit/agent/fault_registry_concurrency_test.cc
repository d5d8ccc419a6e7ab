// FaultRegistry with real threads: faults are independent (one fault's
// blocked apply or revert never holds up another's TTL revert or revert),
// a revert or RevertAll waits for faults still applying or reverting,
// request-id repeats wait for the apply, a TTL racing a revert reverts
// once, the watchdog retries a failed revert, and a fault can end itself
// from on_tick.
#include <gtest/gtest.h>

#include <condition_variable>
#include <future>
#include <mutex>
#include <set>
#include <thread>

#include "agent/watchdog.h"
#include "common/worker_pool.h"
#include "tests/unit/agent/fault_registry_fixture.h"

namespace chaos::agent {
namespace {

// Blocks whoever calls wait() until open() (or the test ends).
class Latch {
 public:
  ~Latch() { open(); }
  void wait() {
    std::unique_lock lock(mutex_);
    ++waiting_;
    changed_.notify_all();
    changed_.wait(lock, [this] { return open_; });
  }
  void open() {
    std::lock_guard lock(mutex_);
    open_ = true;
    changed_.notify_all();
  }
  // True once someone is blocked in wait(); false after `timeout`.
  bool someone_waiting(std::chrono::milliseconds timeout = 10s) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [this] { return waiting_ > 0; });
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  bool open_ = false;
  int waiting_ = 0;
};

template <typename Predicate>
bool eventually(Predicate predicate, std::chrono::milliseconds timeout = 10s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (predicate()) return true;
    std::this_thread::sleep_for(2ms);
  }
  return predicate();
}

bool reverted(FakeKindState& state, const std::string& id) {
  std::lock_guard lock(state.mutex);
  return std::find(state.reverted.begin(), state.reverted.end(), id) != state.reverted.end();
}

class FaultRegistryConcurrencyTest : public FaultRegistryTest {
 protected:
  void SetUp() override {
    FaultRegistryTest::SetUp();
    registry_ = make_registry(Policy{}, &pool_);
  }
  void TearDown() override {
    blocked_.open();
    registry_.reset();
    FaultRegistryTest::TearDown();
  }

  WorkerPool pool_{WorkerPoolOptions{}};
  Latch blocked_;
};

TEST_F(FaultRegistryConcurrencyTest, AHangingRevertDoesNotDelayAnotherFaultsTtl) {
  auto slow = registry_->inject(command(10s));
  auto quick = registry_->inject(command(1s));
  ASSERT_TRUE(slow.ok() && quick.ok());
  kind_->before_revert = [&](const std::string& id) {
    if (id == slow->id()) blocked_.wait();  // a command hanging until its timeout
  };
  auto reverting = std::async(std::launch::async, [&] { return registry_->revert(slow->id()); });
  ASSERT_TRUE(blocked_.someone_waiting());
  clock_.advance(1s);
  registry_->tick();
  EXPECT_TRUE(eventually([&] { return reverted(*kind_, quick->id()); }))
      << "the TTL revert waited behind another fault's revert";
  EXPECT_FALSE(reverted(*kind_, slow->id()));
  blocked_.open();
  ASSERT_TRUE(reverting.get().ok());
}

TEST_F(FaultRegistryConcurrencyTest, AHangingApplyDoesNotDelayAnotherFaultsTtl) {
  auto quick = registry_->inject(command(1s));
  ASSERT_TRUE(quick.ok());
  kind_->before_apply = [&](const std::string&) { blocked_.wait(); };
  auto applying = std::async(std::launch::async, [&] { return registry_->inject(command(10s)); });
  ASSERT_TRUE(blocked_.someone_waiting());
  clock_.advance(1s);
  registry_->tick();
  EXPECT_TRUE(eventually([&] { return reverted(*kind_, quick->id()); }))
      << "the TTL revert waited behind another fault's apply";
  blocked_.open();
  EXPECT_TRUE(applying.get().ok());
}

TEST_F(FaultRegistryConcurrencyTest, ATickDoesNotWaitForAHangingRevert) {
  auto slow = registry_->inject(command(1s));
  ASSERT_TRUE(slow.ok());
  kind_->before_revert = [&](const std::string&) { blocked_.wait(); };
  clock_.advance(1s);
  registry_->tick();  // hands the revert to a worker and returns
  ASSERT_TRUE(blocked_.someone_waiting());
  auto list = registry_->list("", false);
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0].state(), v1::FAULT_STATE_ACTIVE) << "still reverting";
  blocked_.open();
  EXPECT_TRUE(eventually([&] { return registry_->live_count() == 0; }));
}

TEST_F(FaultRegistryConcurrencyTest, RevertAllWaitsForAFaultStillApplying) {
  kind_->before_apply = [&](const std::string&) { blocked_.wait(); };
  auto applying = std::async(std::launch::async, [&] { return registry_->inject(command()); });
  ASSERT_TRUE(blocked_.someone_waiting());
  auto all = std::async(std::launch::async, [&] { return registry_->revert_all("exp-1"); });
  EXPECT_EQ(all.wait_for(100ms), std::future_status::timeout) << "RevertAll confirmed a fault still applying";
  blocked_.open();
  const auto faults = all.get();
  auto injected = applying.get();
  ASSERT_TRUE(injected.ok());
  ASSERT_EQ(faults.size(), 1u);
  EXPECT_EQ(faults[0].id(), injected->id());
  EXPECT_EQ(faults[0].state(), v1::FAULT_STATE_REVERTED);
  EXPECT_TRUE(reverted(*kind_, injected->id()));
  EXPECT_EQ(registry_->live_count(), 0u);
}

TEST_F(FaultRegistryConcurrencyTest, RevertAllWaitsForARevertAlreadyUnderWay) {
  auto fault = registry_->inject(command(1s));
  ASSERT_TRUE(fault.ok());
  kind_->before_revert = [&](const std::string&) { blocked_.wait(); };
  clock_.advance(1s);
  registry_->tick();
  ASSERT_TRUE(blocked_.someone_waiting());
  auto all = std::async(std::launch::async, [&] { return registry_->revert_all(""); });
  EXPECT_EQ(all.wait_for(100ms), std::future_status::timeout) << "RevertAll confirmed a fault still reverting";
  blocked_.open();
  const auto faults = all.get();
  ASSERT_EQ(faults.size(), 1u);
  EXPECT_EQ(faults[0].state(), v1::FAULT_STATE_REVERTED);
}

TEST_F(FaultRegistryConcurrencyTest, RepeatedRequestIdWaitsForTheApplyAndGetsTheSameFault) {
  auto first_command = command();
  first_command.request_id = "req-1";
  kind_->before_apply = [&](const std::string&) { blocked_.wait(); };
  auto first = std::async(std::launch::async, [&] { return registry_->inject(first_command); });
  ASSERT_TRUE(blocked_.someone_waiting());
  auto second = std::async(std::launch::async, [&] { return registry_->inject(first_command); });
  EXPECT_EQ(second.wait_for(100ms), std::future_status::timeout);
  blocked_.open();
  auto a = first.get();
  auto b = second.get();
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->id(), b->id());
  EXPECT_EQ(kind_->applied.size(), 1u);
}

TEST_F(FaultRegistryConcurrencyTest, ARevertOfAFaultStillApplyingWaitsForTheApplyThenReverts) {
  std::promise<std::string> applying_id;
  kind_->before_apply = [&](const std::string& id) {
    applying_id.set_value(id);
    blocked_.wait();
  };
  auto applying = std::async(std::launch::async, [&] { return registry_->inject(command()); });
  const std::string id = applying_id.get_future().get();
  auto reverting = std::async(std::launch::async, [&] { return registry_->revert(id); });
  EXPECT_EQ(reverting.wait_for(100ms), std::future_status::timeout) << "a revert confirmed a fault still applying";
  EXPECT_FALSE(reverted(*kind_, id));
  blocked_.open();
  auto injected = applying.get();
  auto outcome = reverting.get();
  ASSERT_TRUE(injected.ok()) << injected.status().to_string();
  ASSERT_TRUE(outcome.ok());
  EXPECT_EQ(injected->id(), id);
  EXPECT_FALSE(outcome->already_reverted) << "this revert did the work";
  EXPECT_EQ(outcome->fault.state(), v1::FAULT_STATE_REVERTED);
  EXPECT_TRUE(reverted(*kind_, id));
  EXPECT_EQ(registry_->live_count(), 0u);
}

TEST_F(FaultRegistryConcurrencyTest, ARevertOfAnotherFaultProceedsWhileAnApplyIsBlocked) {
  auto other = registry_->inject(command());
  ASSERT_TRUE(other.ok());
  kind_->before_apply = [&](const std::string&) { blocked_.wait(); };
  auto applying = std::async(std::launch::async, [&] { return registry_->inject(command()); });
  ASSERT_TRUE(blocked_.someone_waiting());
  auto reverting = std::async(std::launch::async, [&] { return registry_->revert(other->id()); });
  ASSERT_EQ(reverting.wait_for(10s), std::future_status::ready) << "a revert waited behind another fault's apply";
  auto outcome = reverting.get();
  ASSERT_TRUE(outcome.ok());
  EXPECT_EQ(outcome->fault.state(), v1::FAULT_STATE_REVERTED);
  EXPECT_EQ(applying.wait_for(0ms), std::future_status::timeout) << "the other apply is still blocked";
  blocked_.open();
  EXPECT_TRUE(applying.get().ok());
}

TEST_F(FaultRegistryConcurrencyTest, ConcurrentInjectsWithOneRequestIdApplyOnceAndGetOneFault) {
  constexpr int kClients = 4;
  auto same = command();
  same.request_id = "req-once";
  std::vector<std::future<StatusOr<v1::Fault>>> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.push_back(std::async(std::launch::async, [&] { return registry_->inject(same); }));
  }
  std::set<std::string> ids;
  for (auto& client : clients) {
    auto fault = client.get();
    ASSERT_TRUE(fault.ok()) << fault.status().to_string();
    ids.insert(fault->id());
  }
  EXPECT_EQ(ids.size(), 1u);
  std::lock_guard lock(kind_->mutex);
  EXPECT_EQ(kind_->applied.size(), 1u);
}

TEST_F(FaultRegistryConcurrencyTest, RevertAllWaitsForAnApplyThatFailsAndReportsNothingForIt) {
  kind_->before_apply = [&](const std::string&) { blocked_.wait(); };
  kind_->apply_error = internal_error("tc: no such device");
  auto applying = std::async(std::launch::async, [&] { return registry_->inject(command()); });
  ASSERT_TRUE(blocked_.someone_waiting());
  auto all = std::async(std::launch::async, [&] { return registry_->revert_all(""); });
  EXPECT_EQ(all.wait_for(100ms), std::future_status::timeout);
  blocked_.open();
  EXPECT_FALSE(applying.get().ok());
  EXPECT_TRUE(all.get().empty()) << "a fault that never applied has nothing to confirm";
  EXPECT_EQ(registry_->live_count(), 0u);
}

TEST_F(FaultRegistryConcurrencyTest, RevertAllReturnsTheFinalStateOfAPendingRevertThatFails) {
  kind_->before_apply = [&](const std::string&) { blocked_.wait(); };
  kind_->revert_failures = 1;
  auto applying = std::async(std::launch::async, [&] { return registry_->inject(command()); });
  ASSERT_TRUE(blocked_.someone_waiting());
  auto all = std::async(std::launch::async, [&] { return registry_->revert_all(""); });
  EXPECT_EQ(all.wait_for(100ms), std::future_status::timeout);
  blocked_.open();
  ASSERT_TRUE(applying.get().ok());
  const auto faults = all.get();
  ASSERT_EQ(faults.size(), 1u);
  EXPECT_EQ(faults[0].state(), v1::FAULT_STATE_REVERT_FAILED);
  EXPECT_NE(faults[0].detail().find("fake revert failure"), std::string::npos) << faults[0].detail();
}

// Both orders, then a free race: the kind's revert runs exactly once.
TEST_F(FaultRegistryConcurrencyTest, AnExplicitRevertDuringATtlRevertWaitsAndDoesNotRevertTwice) {
  auto fault = registry_->inject(command(1s));
  ASSERT_TRUE(fault.ok());
  kind_->before_revert = [&](const std::string&) { blocked_.wait(); };
  clock_.advance(1s);
  registry_->tick();
  ASSERT_TRUE(blocked_.someone_waiting());
  auto reverting = std::async(std::launch::async, [&] { return registry_->revert(fault->id()); });
  EXPECT_EQ(reverting.wait_for(100ms), std::future_status::timeout) << "confirmed before the TTL revert ended";
  blocked_.open();
  auto outcome = reverting.get();
  ASSERT_TRUE(outcome.ok());
  EXPECT_EQ(outcome->fault.state(), v1::FAULT_STATE_REVERTED);
  EXPECT_EQ(outcome->fault.revert_reason(), "ttl");
  std::lock_guard lock(kind_->mutex);
  EXPECT_EQ(kind_->reverted.size(), 1u);
}

TEST_F(FaultRegistryConcurrencyTest, ATtlExpiringDuringAnExplicitRevertDoesNotRevertTwice) {
  auto fault = registry_->inject(command(1s));
  ASSERT_TRUE(fault.ok());
  kind_->before_revert = [&](const std::string&) { blocked_.wait(); };
  auto reverting = std::async(std::launch::async, [&] { return registry_->revert(fault->id()); });
  ASSERT_TRUE(blocked_.someone_waiting());
  clock_.advance(1s);
  registry_->tick();
  blocked_.open();
  auto outcome = reverting.get();
  ASSERT_TRUE(outcome.ok());
  EXPECT_EQ(outcome->fault.revert_reason(), "request");
  std::lock_guard lock(kind_->mutex);
  EXPECT_EQ(kind_->reverted.size(), 1u);
}

TEST_F(FaultRegistryConcurrencyTest, TtlExpiryRacingAnExplicitRevertRevertsExactlyOnce) {
  constexpr int kRounds = 20;
  for (int round = 0; round < kRounds; ++round) {
    auto fault = registry_->inject(command(1s));
    ASSERT_TRUE(fault.ok()) << fault.status().to_string();
    Latch start;
    auto ticking = std::async(std::launch::async, [&] {
      start.wait();
      clock_.advance(1s);
      registry_->tick();
    });
    auto reverting = std::async(std::launch::async, [&] {
      start.wait();
      return registry_->revert(fault->id());
    });
    start.open();
    ticking.get();
    ASSERT_TRUE(reverting.get().ok());
    ASSERT_TRUE(eventually([&] { return registry_->live_count() == 0; }));
  }
  std::lock_guard lock(kind_->mutex);
  EXPECT_EQ(kind_->reverted.size(), static_cast<std::size_t>(kRounds));
  EXPECT_EQ(std::set<std::string>(kind_->reverted.begin(), kind_->reverted.end()).size(),
            static_cast<std::size_t>(kRounds));
}

// The watchdog thread, not a test's tick(), retries a revert that failed.
TEST_F(FaultRegistryConcurrencyTest, AFailedRevertIsRevertFailedAndRetriedByTheWatchdog) {
  auto fault = registry_->inject(command());
  ASSERT_TRUE(fault.ok());
  kind_->revert_failures = 1;
  Watchdog watchdog(clock_, 100ms, [this] { return registry_->tick(); });
  watchdog.start();
  auto refused = registry_->revert(fault->id());
  EXPECT_EQ(refused.status().code(), StatusCode::kInternal);
  EXPECT_NE(refused.status().message().find("fake revert failure"), std::string::npos);
  auto live = registry_->list("", false);
  ASSERT_EQ(live.size(), 1u);
  EXPECT_EQ(live[0].state(), v1::FAULT_STATE_REVERT_FAILED);
  EXPECT_EQ(journal_files(), 1u) << "its journal entry stays until the revert succeeds";
  // Fake time keeps moving as real time would: a watchdog that was inside a
  // tick when the clock moved sleeps a period from the moved time, and only
  // a later step wakes it.
  EXPECT_TRUE(eventually([&] {
    clock_.advance(100ms);
    return registry_->live_count() == 0;
  })) << "the watchdog never retried: "
      << registry_->list("", false)[0].ShortDebugString();
  watchdog.stop();
  EXPECT_TRUE(reverted(*kind_, fault->id()));
  EXPECT_EQ(journal_files(), 0u);
}

TEST_F(FaultRegistryConcurrencyTest, ManyClientsInjectAndRevertWithoutLosingAFault) {
  constexpr int kClients = 4;
  constexpr int kCycles = 50;
  std::vector<std::thread> clients;
  std::atomic<int> failures{0};
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&] {
      for (int i = 0; i < kCycles; ++i) {
        auto fault = registry_->inject(command());
        if (!fault.ok() || !registry_->revert(fault->id()).ok()) ++failures;
      }
    });
  }
  for (auto& client : clients) client.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(registry_->live_count(), 0u);
  EXPECT_EQ(kind_->applied.size(), static_cast<size_t>(kClients * kCycles));
  EXPECT_EQ(kind_->reverted.size(), static_cast<size_t>(kClients * kCycles));
  EXPECT_EQ(journal_files(), 0u);
}

TEST_F(FaultRegistryTest, RevertAllNamesAFaultWhoseRevertFailed) {
  auto fault = registry_->inject(command());
  ASSERT_TRUE(fault.ok());
  kind_->revert_failures = 1;
  const auto faults = registry_->revert_all("exp-1");
  ASSERT_EQ(faults.size(), 1u);
  EXPECT_EQ(faults[0].state(), v1::FAULT_STATE_REVERT_FAILED);
  EXPECT_NE(faults[0].detail().find("fake revert failure"), std::string::npos) << faults[0].detail();
  EXPECT_EQ(registry_->live_count(), 1u) << "a failed revert stays live and is retried";
}

TEST_F(FaultRegistryTest, AFaultThatAbortsFromOnTickEndsWithItsReason) {
  auto fault = registry_->inject(command());
  ASSERT_TRUE(fault.ok());
  kind_->tick_status = aborted("target_gone: process 77 exited");
  clock_.advance(100ms);  // the first on_tick: a tick interval after the apply
  registry_->tick();
  EXPECT_EQ(registry_->live_count(), 0u);
  EXPECT_EQ(kind_->reverted, std::vector<std::string>{fault->id()});
  auto ended = registry_->list("", true);
  ASSERT_EQ(ended.size(), 1u);
  EXPECT_EQ(ended[0].revert_reason(), "target_gone");
}

TEST_F(FaultRegistryTest, AnOnTickErrorThatIsNotAbortedKeepsTheFault) {
  ASSERT_TRUE(registry_->inject(command()).ok());
  kind_->tick_status = internal_error("one kill missed");
  clock_.advance(100ms);  // the first on_tick: a tick interval after the apply
  registry_->tick();
  clock_.advance(100ms);
  registry_->tick();
  EXPECT_EQ(registry_->live_count(), 1u);
  EXPECT_EQ(std::count(log_.begin(), log_.end(), log_.front()), 1) << "a repeating error is logged once";
}

}  // namespace
}  // namespace chaos::agent
