// FaultRegistry with a FakeClock, a fake fault kind and a real journal in a
// temp dir: TTLs, leases, idempotency, all-or-nothing inject, recovery.
#include "agent/fault_registry.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <future>

#include "agent/fault_entry_mapping.h"
#include "tests/unit/agent/fault_registry_fixture.h"

namespace chaos::agent {
namespace {

using namespace std::chrono_literals;

TEST_F(FaultRegistryTest, InjectAppliesJournalsAndReportsTheFault) {
  auto fault = registry_->inject(command());
  ASSERT_TRUE(fault.ok()) << fault.status().to_string();
  EXPECT_EQ(fault->state(), v1::FAULT_STATE_ACTIVE);
  EXPECT_EQ(fault->kind(), "network.delay");
  EXPECT_EQ(fault->backend(), "fake");
  EXPECT_EQ(fault->node_name(), "node-a");
  EXPECT_EQ(fault->expires_at().seconds() - fault->applied_at().seconds(), 60);
  EXPECT_EQ(kind_->applied, std::vector<std::string>{fault->id()});
  EXPECT_EQ(journal_files(), 1u);
  auto contents = journal_->load_all().value();
  ASSERT_EQ(contents.entries.size(), 1u);
  EXPECT_EQ(contents.entries[0].phase, JournalPhase::kApplied);
  EXPECT_EQ(contents.entries[0].undo["token"], "undo-" + fault->id());
  const auto text = metrics_text();
  EXPECT_NE(text.find("chaos_agent_faults_active{kind=\"network.delay\"} 1"), std::string::npos) << text;
  EXPECT_NE(text.find("chaos_agent_fault_live{experiment=\"exp-1\",kind=\"network.delay\",node=\"node-a\",fault_id=\"" +
                      fault->id() + "\",backend=\"fake\"} 1"),
            std::string::npos)
      << text;
}

TEST_F(FaultRegistryTest, RecordsAreFlushedToDiskOnlyForAKindWhoseEffectSurvivesAReboot) {
  auto durable = registry_->inject(command());
  ASSERT_TRUE(durable.ok()) << durable.status().to_string();
  EXPECT_EQ(journal_->record_syncs(), 2u);  // applying and applied

  kind_->survives_reboot = false;
  auto in_memory = registry_->inject(command());
  ASSERT_TRUE(in_memory.ok()) << in_memory.status().to_string();
  EXPECT_EQ(journal_->record_syncs(), 2u);
  // Written all the same: a new agent process (same kernel) reads both.
  FileFaultJournal reopened(state_dir_.string());
  ASSERT_TRUE(reopened.open().ok());
  auto contents = reopened.load_all().value();
  ASSERT_EQ(contents.entries.size(), 2u);
  for (const auto& entry : contents.entries) {
    EXPECT_EQ(entry.phase, JournalPhase::kApplied) << entry.fault_id;
    EXPECT_EQ(entry.undo["token"], "undo-" + entry.fault_id);
  }
}

TEST_F(FaultRegistryTest, FaultEndsWhenItsTtlRunsOut) {
  auto fault = registry_->inject(command(10s));
  ASSERT_TRUE(fault.ok());
  clock_.advance(9900ms);
  registry_->tick();
  EXPECT_TRUE(kind_->reverted.empty());
  clock_.advance(100ms);
  registry_->tick();
  EXPECT_EQ(kind_->reverted, std::vector<std::string>{fault->id()});
  EXPECT_EQ(registry_->live_count(), 0u);
  EXPECT_EQ(journal_files(), 0u);
  auto ended = registry_->list("", true);
  ASSERT_EQ(ended.size(), 1u);
  EXPECT_EQ(ended[0].state(), v1::FAULT_STATE_REVERTED);
  EXPECT_EQ(ended[0].revert_reason(), "ttl");
  const auto text = metrics_text();
  EXPECT_NE(text.find("chaos_agent_reverts_total{kind=\"network.delay\",reason=\"ttl\",result=\"ok\"} 1"),
            std::string::npos);
  EXPECT_EQ(text.find("chaos_agent_fault_live{"), std::string::npos) << "the live series must disappear";
  EXPECT_NE(text.find("chaos_agent_faults_active{kind=\"network.delay\"} 0"), std::string::npos);
}

TEST_F(FaultRegistryTest, ExpiredLeaseRevertsItsFaults) {
  auto first = registry_->inject(command(60s, "lease-1", 5s));
  auto second = registry_->inject(command(60s, "lease-1", 0s));  // joins the lease
  auto other = registry_->inject(command(60s, "lease-2", 30s));
  ASSERT_TRUE(first.ok() && second.ok() && other.ok());
  clock_.advance(5s);
  registry_->tick();
  EXPECT_EQ(kind_->reverted.size(), 2u);
  auto live = registry_->list("", false);
  ASSERT_EQ(live.size(), 1u);
  EXPECT_EQ(live[0].id(), other->id());
  for (const auto& fault : registry_->list("", true)) {
    if (fault.id() != other->id()) {
      EXPECT_EQ(fault.revert_reason(), "lease");
    }
  }
  EXPECT_NE(metrics_text().find("chaos_agent_lease_expiries_total 1"), std::string::npos);
  EXPECT_EQ(registry_->renew_lease("lease-1", 5s).status().code(), StatusCode::kNotFound);
}

TEST_F(FaultRegistryTest, RenewedLeaseKeepsItsFaults) {
  ASSERT_TRUE(registry_->inject(command(60s, "lease-1", 5s)).ok());
  for (int i = 0; i < 5; ++i) {
    clock_.advance(4s);
    auto renewal = registry_->renew_lease("lease-1", 0s);  // keeps the 5 s ttl
    ASSERT_TRUE(renewal.ok()) << renewal.status().to_string();
    EXPECT_EQ(renewal->live_faults, 1u);
    EXPECT_EQ(renewal->expires_at, clock_.wall_now() + 5s);
    registry_->tick();
  }
  EXPECT_EQ(registry_->live_count(), 1u);
  clock_.advance(5s);
  registry_->tick();
  EXPECT_EQ(registry_->live_count(), 0u);
}

TEST_F(FaultRegistryTest, RenewingAnUnknownLeaseIsNotFound) {
  auto renewal = registry_->renew_lease("nobody", 5s);
  EXPECT_EQ(renewal.status().code(), StatusCode::kNotFound);
  EXPECT_NE(renewal.status().message().find("lease_id"), std::string::npos);
  EXPECT_EQ(registry_->renew_lease("", 5s).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(FaultRegistryTest, NewLeaseNeedsATtl) {
  auto fault = registry_->inject(command(60s, "lease-1", 0s));
  EXPECT_EQ(fault.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(fault.status().message().rfind("lease_ttl:", 0), 0u) << fault.status().message();
  EXPECT_EQ(registry_->live_count(), 0u);
}

TEST_F(FaultRegistryTest, RevertIsIdempotent) {
  auto fault = registry_->inject(command());
  ASSERT_TRUE(fault.ok());
  auto first = registry_->revert(fault->id());
  ASSERT_TRUE(first.ok());
  EXPECT_FALSE(first->already_reverted);
  EXPECT_EQ(first->fault.state(), v1::FAULT_STATE_REVERTED);
  EXPECT_EQ(first->fault.revert_reason(), "request");
  auto second = registry_->revert(fault->id());
  ASSERT_TRUE(second.ok());
  EXPECT_TRUE(second->already_reverted);
  auto unknown = registry_->revert("f000000000000");
  ASSERT_TRUE(unknown.ok());
  EXPECT_TRUE(unknown->already_reverted);
  EXPECT_EQ(kind_->reverted.size(), 1u);
  EXPECT_EQ(registry_->revert("").status().code(), StatusCode::kInvalidArgument);
}

TEST_F(FaultRegistryTest, FailedApplyLeavesNothingLiveOrJournaled) {
  kind_->apply_error = unavailable("tc: no such device");
  auto fault = registry_->inject(command(60s, "lease-1", 5s));
  EXPECT_EQ(fault.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(registry_->live_count(), 0u);
  EXPECT_TRUE(registry_->list("", true).empty());
  EXPECT_EQ(journal_files(), 0u);
  EXPECT_NE(metrics_text().find("chaos_agent_injections_total{kind=\"network.delay\",result=\"unavailable\"} 1"),
            std::string::npos);
}

TEST_F(FaultRegistryTest, ValidationErrorsNameTheField) {
  auto no_duration = registry_->inject(command(0s));
  EXPECT_EQ(no_duration.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(no_duration.status().message().rfind("duration:", 0), 0u);
  auto negative = registry_->inject(command(-1s));
  EXPECT_EQ(negative.status().code(), StatusCode::kInvalidArgument);
  InjectCommand no_spec = command();
  no_spec.spec.Clear();
  EXPECT_EQ(registry_->inject(no_spec).status().message().rfind("spec:", 0), 0u);
  kind_->validate_error = invalid_argument("network_delay.delay: must be positive");
  auto bad_spec = registry_->inject(command());
  EXPECT_EQ(bad_spec.status().message(), "network_delay.delay: must be positive");
  EXPECT_TRUE(kind_->applied.empty());
}

TEST_F(FaultRegistryTest, KindWithoutImplementationIsUnimplemented) {
  InjectCommand dns = command();
  dns.spec.mutable_dns()->add_patterns("*.lab");
  auto fault = registry_->inject(dns);
  EXPECT_EQ(fault.status().code(), StatusCode::kUnimplemented);
  EXPECT_NE(fault.status().message().find("spec: fault kind 'dns.fail'"), std::string::npos);
}

TEST_F(FaultRegistryTest, PolicyRefusesWithTheReason) {
  Policy policy;
  policy.allowed_kinds = {"process.kill"};
  registry_ = make_registry(policy);
  auto kind_refused = registry_->inject(command());
  EXPECT_EQ(kind_refused.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(kind_refused.status().message().find("'network.delay' is not in allowed_kinds"), std::string::npos);

  policy.allowed_kinds.clear();
  policy.max_duration = 5min;
  registry_ = make_registry(policy);
  auto too_long = registry_->inject(command(10min));
  EXPECT_EQ(too_long.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(too_long.status().message(), "duration: 10m exceeds this agent's limit of 5m (policy.max_duration)");
  EXPECT_TRUE(kind_->applied.empty());
  EXPECT_NE(metrics_text().find("result=\"permission_denied\"} 1"), std::string::npos);
  EXPECT_NE(metrics_text().find("result=\"invalid_argument\"} 1"), std::string::npos);
}

TEST_F(FaultRegistryTest, RepeatedRequestIdReturnsTheSameFault) {
  InjectCommand inject = command();
  inject.request_id = "req-7";
  auto first = registry_->inject(inject);
  auto again = registry_->inject(inject);
  ASSERT_TRUE(first.ok() && again.ok());
  EXPECT_EQ(first->id(), again->id());
  EXPECT_EQ(kind_->applied.size(), 1u);
  inject.spec = delay_spec(99);
  auto different = registry_->inject(inject);
  EXPECT_EQ(different.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(different.status().message().rfind("request_id:", 0), 0u);
}

TEST_F(FaultRegistryTest, RevertAllByExperiment) {
  auto mine = registry_->inject(command());
  InjectCommand other = command();
  other.experiment_id = "exp-2";
  auto theirs = registry_->inject(other);
  ASSERT_TRUE(mine.ok() && theirs.ok());
  auto reverted = registry_->revert_all("exp-1");
  ASSERT_EQ(reverted.size(), 1u);
  EXPECT_EQ(reverted[0].id(), mine->id());
  EXPECT_EQ(registry_->list("", false).size(), 1u);
  EXPECT_EQ(registry_->revert_all("").size(), 1u);
  EXPECT_EQ(registry_->live_count(), 0u);
}

TEST_F(FaultRegistryTest, ShutdownRevertsEverythingAndRefusesNewFaults) {
  ASSERT_TRUE(registry_->inject(command()).ok());
  ASSERT_TRUE(registry_->inject(command(60s, "l", 10s)).ok());
  registry_->shutdown();
  EXPECT_EQ(kind_->reverted.size(), 2u);
  for (const auto& fault : registry_->list("", true)) {
    EXPECT_EQ(fault.revert_reason(), "shutdown");
  }
  EXPECT_EQ(journal_files(), 0u);
  EXPECT_EQ(registry_->inject(command()).status().code(), StatusCode::kUnavailable);
}

TEST_F(FaultRegistryTest, FailedRevertIsRetriedAndKeepsTheJournalEntry) {
  auto fault = registry_->inject(command(1s));
  ASSERT_TRUE(fault.ok());
  kind_->revert_failures = 1;
  clock_.advance(1s);
  registry_->tick();
  auto live = registry_->list("", false);
  ASSERT_EQ(live.size(), 1u);
  EXPECT_EQ(live[0].state(), v1::FAULT_STATE_REVERT_FAILED);
  EXPECT_EQ(journal_files(), 1u);
  clock_.advance(1s);
  registry_->tick();
  EXPECT_EQ(registry_->live_count(), 0u);
  EXPECT_EQ(journal_files(), 0u);
  const auto text = metrics_text();
  EXPECT_NE(text.find("reason=\"ttl\",result=\"error\"} 1"), std::string::npos) << text;
  EXPECT_NE(text.find("reason=\"ttl\",result=\"ok\"} 1"), std::string::npos) << text;
}

// A log line may block (stderr to a stalled journald): the lines of a
// failed revert and of an expired lease are written once the registry's
// lock is free, so other faults' reverts and renewals go on meanwhile.
TEST_F(FaultRegistryTest, RevertAndLeaseLinesAreLoggedWithoutTheRegistryLock) {
  std::vector<std::string> logged_under_lock;
  std::vector<std::future<std::size_t>> probes;
  on_log_ = [&](const std::string& line) {
    probes.push_back(std::async(std::launch::async, [this] { return registry_->live_count(); }));
    if (probes.back().wait_for(2s) == std::future_status::timeout) logged_under_lock.push_back(line);
  };
  ASSERT_TRUE(registry_->inject(command(1s)).ok());
  ASSERT_TRUE(registry_->inject(command(60s, "lease-1", 5s)).ok());
  kind_->revert_failures = 1;
  clock_.advance(1s);
  registry_->tick();  // the 1 s fault's revert fails
  clock_.advance(5s);
  registry_->tick();  // lease-1 expires
  for (auto& probe : probes) probe.wait();
  on_log_ = nullptr;
  EXPECT_TRUE(logged("revert failed, will retry"));
  EXPECT_TRUE(logged("lease lease-1 expired"));
  EXPECT_TRUE(logged_under_lock.empty()) << logged_under_lock.front();
}

TEST_F(FaultRegistryTest, OnTickRunsWhileLiveAndNeverAfterRevert) {
  auto fault = registry_->inject(command());
  ASSERT_TRUE(fault.ok());
  registry_->tick();  // the apply was this instant's work: first on_tick a tick interval later
  EXPECT_EQ(kind_->ticks, 0);
  clock_.advance(100ms);  // the tick interval
  registry_->tick();
  registry_->tick();  // a wake at the same instant: on_tick is not due again
  EXPECT_EQ(kind_->ticks, 1);
  clock_.advance(100ms);
  registry_->tick();
  EXPECT_EQ(kind_->ticks, 2);
  ASSERT_TRUE(registry_->revert(fault->id()).ok());
  clock_.advance(100ms);
  registry_->tick();
  EXPECT_EQ(kind_->ticks, 2);
}

TEST_F(FaultRegistryTest, InjectWakesWatchdogOnlyForDeadlineEarlierThanPlanned) {
  std::uint64_t ticket = clock_.wake_ticket();
  auto first = registry_->inject(command());
  ASSERT_TRUE(first.ok());
  EXPECT_NE(clock_.wake_ticket(), ticket) << "no tick planned yet: the first fault wakes the watchdog";
  EXPECT_EQ(registry_->tick(), clock_.steady_now() + 100ms);  // the first fault's first on_tick
  clock_.advance(10ms);
  ticket = clock_.wake_ticket();
  auto second = registry_->inject(command());
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(clock_.wake_ticket(), ticket) << "its first on_tick is after the planned wake: no wake";
  clock_.advance(90ms);
  registry_->tick();
  EXPECT_EQ(kind_->ticks, 1) << "the planned wake ticks the first fault";
  clock_.advance(10ms);
  registry_->tick();
  EXPECT_EQ(kind_->ticks, 2) << "and the second one a tick interval after its inject";
  ticket = clock_.wake_ticket();
  InjectCommand short_one = command();
  short_one.duration = 20ms;
  ASSERT_TRUE(registry_->inject(short_one).ok());
  EXPECT_NE(clock_.wake_ticket(), ticket) << "a TTL earlier than the planned wake wakes the watchdog";
}

TEST_F(FaultRegistryTest, JournalRecoveryRevertsLeftoversAndCountsThem) {
  JournalEntry applied{"fleft1", "network.delay", "exp-old", "lease-old", delay_spec(), 60s,
                       JournalPhase::kApplied, {{"token", "t1"}}, clock_.wall_now()};
  JournalEntry half{"fleft2", "network.delay", "exp-old", "", delay_spec(), 60s,
                    JournalPhase::kApplying, nullptr, clock_.wall_now()};
  JournalEntry foreign{"fleft3", "dns.fail", "exp-old", "", v1::FaultSpec(), 60s,
                       JournalPhase::kApplied, nullptr, clock_.wall_now()};
  ASSERT_TRUE(journal_->write(applied, JournalFlush::kToDisk).ok());
  ASSERT_TRUE(journal_->write(half, JournalFlush::kToDisk).ok());
  ASSERT_TRUE(journal_->write(foreign, JournalFlush::kToDisk).ok());

  auto restarted = make_registry(Policy{});
  EXPECT_EQ(restarted->recover_from_journal().value(), 2);
  ASSERT_EQ(kind_->recovered.size(), 2u);
  EXPECT_EQ(kind_->recovered[0].first, "fleft1");
  EXPECT_EQ(kind_->recovered[0].second["token"], "t1");
  EXPECT_EQ(kind_->recovered[1].first, "fleft2");
  EXPECT_TRUE(kind_->recovered[1].second.is_null()) << "mid-apply crash: no undo record";
  EXPECT_EQ(journal_files(), 1u) << "an entry of a kind this agent lacks is kept";
  EXPECT_NE(metrics_text().find("chaos_agent_journal_recoveries_total 2"), std::string::npos);
  auto revert = restarted->revert("fleft1");
  ASSERT_TRUE(revert.ok());
  EXPECT_TRUE(revert->already_reverted);
  EXPECT_EQ(revert->fault.revert_reason(), "recovery");
}

TEST_F(FaultRegistryTest, InjectIntoAnExpiredButUncollectedLeaseIsRefused) {
  ASSERT_TRUE(registry_->inject(command(60s, "lease-1", 1s)).ok());
  clock_.advance(2s);  // no tick yet
  auto late = registry_->inject(command(60s, "lease-1", 5s));
  EXPECT_EQ(late.status().code(), StatusCode::kFailedPrecondition);
  registry_->tick();
  EXPECT_EQ(registry_->live_count(), 0u);
  EXPECT_TRUE(registry_->inject(command(60s, "lease-1", 5s)).ok()) << "a collected lease id can be reused";
}

}  // namespace
}  // namespace chaos::agent

namespace chaos::agent {
namespace {

// A process's comm cut mid-character or a container's resolv.conf reach a
// fault's detail and evidence: the response must still parse, or chaosctl
// sees a successful inject as a failed call and every later List fail.
TEST(FaultEntryMapping, TextFromTheNodeIsValidUtf8SoTheResponseParses) {
  FaultEntry entry;
  entry.id = "f1";
  entry.kind = "process.kill";
  entry.state = EntryState::kRevertFailed;
  entry.detail = "pid 42 (nats-s\xC3";
  entry.last_error = std::string("\xE9") + "chec";
  entry.evidence = "comm \xFF";
  std::string wire;
  ASSERT_TRUE(to_proto(entry, "node-a").SerializeToString(&wire));
  v1::Fault parsed;
  ASSERT_TRUE(parsed.ParseFromString(wire));
  const std::string replacement = "\xEF\xBF\xBD";  // U+FFFD
  EXPECT_EQ(parsed.detail(), "pid 42 (nats-s" + replacement + " (revert failed: " + replacement + "chec)");
  EXPECT_EQ(parsed.evidence(), "comm " + replacement);
  EXPECT_EQ(parsed.error(), replacement + "chec");
}

}  // namespace
}  // namespace chaos::agent
