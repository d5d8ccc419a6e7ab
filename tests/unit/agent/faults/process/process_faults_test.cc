// process.kill and process.pause against the fake process table.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "agent/faults/process/process_kill.h"
#include "agent/faults/process/process_pause.h"
#include "tests/unit/agent/fake_process_table.h"

namespace chaos::agent {
namespace {

using namespace std::chrono_literals;
using testing::FakeProcessTable;
using Signals = std::vector<std::pair<int, int>>;

class ProcessFaultsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    table_.add(100, "nats-server", "nats-server -c n1.conf");
    table_.add(101, "nats-server", "nats-server -c n2.conf");
    auto targeting = std::make_shared<ProcessTargeting>();
    targeting->table = &table_;
    targeting->clock = &clock_;
    targeting->effect_timeout = 50ms;  // real time: the checks wait on processes
    kill_ = std::make_unique<ProcessKillKind>(targeting);
    pause_ = std::make_unique<ProcessPauseKind>(targeting);
  }

  static v1::FaultSpec kill_spec(const std::string& name, const std::string& signal = "",
                                 Duration interval = 0s) {
    v1::FaultSpec spec;
    auto* kill = spec.mutable_process_kill();
    kill->mutable_target()->set_name(name);
    kill->set_signal(signal);
    kill->mutable_interval()->set_seconds(std::chrono::duration_cast<std::chrono::seconds>(interval).count());
    return spec;
  }

  static v1::FaultSpec pause_spec(const std::string& name) {
    v1::FaultSpec spec;
    spec.mutable_process_pause()->mutable_target()->set_name(name);
    return spec;
  }

  FaultContext context_{"fproc1", "exp", 60s};
  FakeClock clock_;
  FakeProcessTable table_;
  std::unique_ptr<ProcessKillKind> kill_;
  std::unique_ptr<ProcessPauseKind> pause_;
};

TEST_F(ProcessFaultsTest, KillSendsTheSignalOnce) {
  auto live = kill_->apply(kill_spec("nats-server", "TERM"), context_);
  ASSERT_TRUE(live.ok()) << live.status().to_string();
  EXPECT_EQ(table_.signals(), (Signals{{100, SIGTERM}, {101, SIGTERM}}));
  EXPECT_EQ((*live)->backend(), "signal");
  EXPECT_EQ((*live)->detail(), "SIGTERM pids 100,101");
  EXPECT_TRUE((*live)->revert().ok());
  EXPECT_TRUE(kill_->recover(kill_spec("nats-server"), context_, nullptr).ok());
}

TEST_F(ProcessFaultsTest, SignalsEndWithTheKernelSoTheirRecordsAreNotFlushed) {
  EXPECT_FALSE(kill_->effect_survives_reboot());
  EXPECT_FALSE(pause_->effect_survives_reboot());
}

TEST_F(ProcessFaultsTest, KillRepeatsEveryIntervalOnRestartedProcesses) {
  auto live = kill_->apply(kill_spec("nats-server", "KILL", 10s), context_);
  ASSERT_TRUE(live.ok());
  EXPECT_EQ((*live)->detail(), "SIGKILL pids 100,101, then every 10s");
  table_.clear_signals();
  table_.add(200, "nats-server", "nats-server -c n1.conf");  // the supervisor restarted one
  clock_.advance(9s);
  EXPECT_TRUE((*live)->on_tick(clock_.steady_now()).ok());
  EXPECT_TRUE(table_.signals().empty());
  clock_.advance(1s);
  EXPECT_TRUE((*live)->on_tick(clock_.steady_now()).ok());
  EXPECT_EQ(table_.signals(), (Signals{{200, SIGKILL}}));
  clock_.advance(10s);
  EXPECT_TRUE((*live)->on_tick(clock_.steady_now()).ok()) << "nothing to kill this round is fine";
  table_.add(201, "nats-server", "nats-server -c n2.conf");
  ASSERT_TRUE((*live)->revert().ok());
  clock_.advance(10s);
  EXPECT_TRUE((*live)->on_tick(clock_.steady_now()).ok());
  EXPECT_EQ(table_.state_of(201), 'S') << "no kill after revert";
}

TEST_F(ProcessFaultsTest, KillValidation) {
  EXPECT_EQ(kill_->validate(kill_spec("x", "", -1s)).message(), "process_kill.interval: must not be negative");
  auto fast = kill_spec("x");
  fast.mutable_process_kill()->mutable_interval()->set_nanos(1'000'000);
  EXPECT_EQ(kill_->validate(fast).message(), "process_kill.interval: must be at least 100ms");
  auto rare = kill_spec("x");
  rare.mutable_process_kill()->mutable_interval()->set_seconds(9'223'370'000);  // now + this overflows
  EXPECT_EQ(kill_->validate(rare).message(), "process_kill.interval: must be at most 720h");
  v1::FaultSpec no_target;
  no_target.mutable_process_kill();
  EXPECT_EQ(kill_->validate(no_target).message(), "process_kill.target: required");
}

TEST_F(ProcessFaultsTest, KillRefusedByTheKernelIsAnError) {
  table_.deny(100);
  table_.deny(101);
  auto live = kill_->apply(kill_spec("nats-server"), context_);
  EXPECT_EQ(live.status().code(), StatusCode::kPermissionDenied);
}

TEST_F(ProcessFaultsTest, PauseStopsAndRevertResumes) {
  auto live = pause_->apply(pause_spec("nats-server"), context_);
  ASSERT_TRUE(live.ok()) << live.status().to_string();
  EXPECT_EQ(table_.state_of(100), 'T');
  EXPECT_EQ(table_.state_of(101), 'T');
  EXPECT_EQ((*live)->detail(), "SIGSTOP pids 100,101");
  const auto undo = (*live)->undo_record();
  EXPECT_EQ(undo["pids"][0]["pid"], 100);
  EXPECT_EQ(undo["pids"][0]["start_time"], 1100);
  ASSERT_TRUE((*live)->revert().ok());
  EXPECT_EQ(table_.state_of(100), 'S');
  EXPECT_EQ(table_.state_of(101), 'S');
  EXPECT_TRUE((*live)->revert().ok()) << "idempotent";
}

TEST_F(ProcessFaultsTest, PauseIsVerifiedByEveryTargetInStateTAndGoneOnceNoneIs) {
  auto live = pause_->apply(pause_spec("nats-server"), context_);
  ASSERT_TRUE(live.ok());
  auto effect = (*live)->verify_live();
  ASSERT_TRUE(effect.ok()) << effect.status().to_string();
  EXPECT_TRUE(effect->impaired);
  EXPECT_EQ(effect->evidence, "pids 100,101 in state T");
  auto still_stopped = (*live)->verify_gone();
  ASSERT_FALSE(still_stopped.ok()) << "not reverted yet";
  EXPECT_NE(still_stopped.status().message().find("pid 100 (nats-server) stopped"), std::string::npos)
      << still_stopped.status().message();
  ASSERT_TRUE((*live)->revert().ok());
  auto gone = (*live)->verify_gone();
  ASSERT_TRUE(gone.ok()) << gone.status().to_string();
}

TEST_F(ProcessFaultsTest, APauseTargetThatDoesNotStopFailsTheLiveCheckNamingIt) {
  table_.ignore_signals(101);
  auto live = pause_->apply(pause_spec("nats-server"), context_);
  ASSERT_TRUE(live.ok());
  auto effect = (*live)->verify_live();
  ASSERT_FALSE(effect.ok());
  EXPECT_EQ(effect.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(effect.status().message().find("pid 101 (nats-server) running, not stopped"), std::string::npos)
      << effect.status().message();
}

TEST_F(ProcessFaultsTest, APauseTargetGoneBeforeTheCheckFailsIt) {
  auto live = pause_->apply(pause_spec("nats-server"), context_);
  ASSERT_TRUE(live.ok());
  table_.remove(100);
  auto effect = (*live)->verify_live();
  ASSERT_FALSE(effect.ok());
  EXPECT_NE(effect.status().message().find("pid 100 (nats-server) gone"), std::string::npos)
      << effect.status().message();
}

TEST_F(ProcessFaultsTest, KillIsVerifiedByTheTargetsLeaving) {
  auto killed = kill_->apply(kill_spec("nats-server", "TERM"), context_);
  ASSERT_TRUE(killed.ok());
  auto effect = (*killed)->verify_live();
  ASSERT_TRUE(effect.ok()) << effect.status().to_string();
  EXPECT_TRUE(effect->impaired);
  EXPECT_EQ(effect->evidence, "SIGTERM: pids 100,101 gone from /proc");
  EXPECT_EQ(effect->counters.at(0).name, "signals_sent");
  EXPECT_EQ(effect->counters.at(0).value, 2u);
}

TEST_F(ProcessFaultsTest, ATargetStillThereAfterSigkillFailsTheLiveCheck) {
  table_.ignore_signals(101);  // e.g. stuck in uninterruptible sleep
  auto killed = kill_->apply(kill_spec("nats-server", "KILL"), context_);
  ASSERT_TRUE(killed.ok());
  auto effect = (*killed)->verify_live();
  ASSERT_FALSE(effect.ok());
  EXPECT_EQ(effect.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(effect.status().message().find("pid 101 (nats-server) running"), std::string::npos)
      << effect.status().message();
  EXPECT_NE(effect.status().message().find("after SIGKILL"), std::string::npos);
}

// A broker that shuts down slowly on SIGTERM (or catches it) is armed, not
// failed: the signal did arrive. It turns verified once it is gone.
TEST_F(ProcessFaultsTest, ATargetStillShuttingDownAfterSigtermIsArmedUntilItIsGone) {
  table_.add(102, "broker", "broker --slow-shutdown");
  table_.ignore_signals(102);
  auto killed = kill_->apply(kill_spec("broker", "TERM"), FaultContext{"fproc2", "exp", 60s});
  ASSERT_TRUE(killed.ok());
  auto armed = (*killed)->verify_live();
  ASSERT_TRUE(armed.ok()) << armed.status().to_string();
  EXPECT_FALSE(armed->impaired);
  EXPECT_NE(armed->evidence.find("delivered; pid 102 (broker) running"), std::string::npos) << armed->evidence;
  table_.remove(102);
  auto verified = (*killed)->observe();
  ASSERT_TRUE(verified.ok());
  EXPECT_TRUE(verified->impaired);
  EXPECT_EQ(verified->evidence, "SIGTERM: pids 102 gone from /proc");
}

TEST_F(ProcessFaultsTest, PauseRevertOfAnExitedProcessSucceeds) {
  auto live = pause_->apply(pause_spec("nats-server"), context_);
  ASSERT_TRUE(live.ok());
  table_.remove(100);
  EXPECT_TRUE((*live)->revert().ok());
  EXPECT_EQ(table_.state_of(101), 'S');
}

TEST_F(ProcessFaultsTest, PauseIsAllOrNothing) {
  table_.deny(101);
  auto live = pause_->apply(pause_spec("nats-server"), context_);
  EXPECT_EQ(live.status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(table_.state_of(100), 'S') << "the first target was resumed again";
  EXPECT_EQ(table_.signals(), (Signals{{100, SIGSTOP}, {100, SIGCONT}}));
}

TEST_F(ProcessFaultsTest, RecoverResumesRecordedPidsButNotRecycledOnes) {
  auto live = pause_->apply(pause_spec("nats-server"), context_);
  ASSERT_TRUE(live.ok());
  const auto undo = (*live)->undo_record();
  live->reset();  // the agent died: nothing reverted
  table_.remove(101);
  auto& recycled = table_.add(101, "nats-server", "nats-server -c n2.conf");
  recycled.state = 'T';
  recycled.start_time = 9999;  // same pid, another process
  table_.clear_signals();
  ASSERT_TRUE(pause_->recover(pause_spec("nats-server"), context_, undo).ok());
  EXPECT_EQ(table_.signals(), (Signals{{100, SIGCONT}}));
  EXPECT_EQ(table_.state_of(101), 'T');
}

TEST_F(ProcessFaultsTest, RecoverWithoutUndoResumesStoppedMatches) {
  auto live = pause_->apply(pause_spec("nats-server"), context_);
  ASSERT_TRUE(live.ok());
  live->reset();
  table_.clear_signals();
  ASSERT_TRUE(pause_->recover(pause_spec("nats-server"), context_, nullptr).ok());
  EXPECT_EQ(table_.signals(), (Signals{{100, SIGCONT}, {101, SIGCONT}}));
  EXPECT_FALSE(pause_->recover(pause_spec("nats-server"), context_, {{"pids", "garbage"}}).ok());
}

// Crash-recovery tests kill the agent between two signals of one fault:
// every signal is a crash point (common/crash_point.h), named after it.
TEST_F(ProcessFaultsTest, EverySignalIsACrashPoint) {
  // The death test's child runs this body again (and has another pid): it
  // keeps the parent's log.
  const char* inherited = std::getenv("CHAOS_CRASH_STEP_LOG");
  const std::string log =
      inherited ? inherited : ::testing::TempDir() + "/cag-signal-steps-" + std::to_string(::getpid());
  if (!inherited) std::filesystem::remove(log);
  // The hook reads these once per process, at its first step: only the death
  // test's child (a fresh process) sees them; this process takes no step
  // between setenv and unsetenv.
  ::setenv("CHAOS_CRASH_STEP_LOG", log.c_str(), 1);
  ::setenv("CHAOS_CRASH_AFTER_STEPS", "2", 1);
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT((void)kill_->apply(kill_spec("nats-server", "TERM"), context_), ::testing::KilledBySignal(SIGKILL),
              "");
  ::unsetenv("CHAOS_CRASH_STEP_LOG");
  ::unsetenv("CHAOS_CRASH_AFTER_STEPS");
  std::ifstream in(log);
  std::stringstream steps;
  steps << in.rdbuf();
  EXPECT_EQ(steps.str(), "1 signal SIGTERM pid 100\n2 signal SIGTERM pid 101\n");
  std::filesystem::remove(log);
}

}  // namespace
}  // namespace chaos::agent
