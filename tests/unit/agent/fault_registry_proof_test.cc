// The registry's proof of effect: the live check after apply (per verify
// mode), the gone check after revert, observe() turning an armed fault into
// a verified one, and the times and counters it reports.
#include <gtest/gtest.h>

#include "tests/unit/agent/fault_registry_fixture.h"

namespace chaos::agent {
namespace {

using namespace std::chrono_literals;

InjectCommand command_verifying(VerifyMode mode) {
  InjectCommand inject = command();
  inject.verify = mode;
  return inject;
}

TEST_F(FaultRegistryTest, AVerifiedFaultCarriesItsEvidenceAndTimeToEffect) {
  auto fault = registry_->inject(command());
  ASSERT_TRUE(fault.ok()) << fault.status().to_string();
  EXPECT_EQ(fault->effect(), v1::EFFECT_STATE_VERIFIED);
  EXPECT_EQ(fault->evidence(), "fake evidence " + fault->id());
  EXPECT_TRUE(fault->has_verified_at());
  EXPECT_TRUE(fault->has_effect_seen_at());
  EXPECT_TRUE(fault->has_time_to_effect());
  EXPECT_EQ(kind_->verify_calls, 1);
  const auto text = metrics_text();
  EXPECT_NE(text.find("chaos_agent_effect_checks_total{kind=\"network.delay\",check=\"live\",result=\"verified\"} 1"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("chaos_agent_time_to_effect_seconds_count{kind=\"network.delay\"} 1"), std::string::npos)
      << text;
}

TEST_F(FaultRegistryTest, AFailedLiveCheckFailsTheInjectAndUndoesTheFault) {
  kind_->verify_error = failed_precondition("nft table inet chaos_x is not in the ruleset");
  auto fault = registry_->inject(command());
  ASSERT_FALSE(fault.ok());
  EXPECT_EQ(fault.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(fault.status().message().find("nft table inet chaos_x is not in the ruleset"), std::string::npos)
      << fault.status().message();
  EXPECT_NE(fault.status().message().find("was undone"), std::string::npos) << fault.status().message();
  ASSERT_EQ(kind_->applied.size(), 1u);
  EXPECT_EQ(kind_->reverted, kind_->applied);
  EXPECT_EQ(registry_->live_count(), 0u);
  EXPECT_EQ(journal_files(), 0u);
  const auto ended = registry_->list("", true);
  ASSERT_EQ(ended.size(), 1u);
  EXPECT_EQ(ended[0].revert_reason(), "not_in_effect");
  EXPECT_NE(metrics_text().find("check=\"live\",result=\"failed\"} 1"), std::string::npos);
}

TEST_F(FaultRegistryTest, AFailedLiveCheckWhoseUndoFailsStaysRevertFailedAndIsRetried) {
  kind_->verify_error = failed_precondition("rules never appeared");
  kind_->revert_failures = 1;
  auto fault = registry_->inject(command());
  ASSERT_FALSE(fault.ok());
  EXPECT_NE(fault.status().message().find("keeps retrying"), std::string::npos) << fault.status().message();
  EXPECT_EQ(registry_->live_count(), 1u);
  clock_.advance(1s);
  registry_->tick();
  EXPECT_EQ(registry_->live_count(), 0u);
  EXPECT_EQ(kind_->reverted.size(), 1u);
}

TEST_F(FaultRegistryTest, BestEffortKeepsAFaultWhoseCheckFailedAndSaysSo) {
  kind_->verify_error = failed_precondition("no read-back on this host");
  auto fault = registry_->inject(command_verifying(VerifyMode::kBestEffort));
  ASSERT_TRUE(fault.ok()) << fault.status().to_string();
  EXPECT_EQ(fault->effect(), v1::EFFECT_STATE_UNVERIFIED);
  EXPECT_NE(fault->evidence().find("no read-back on this host"), std::string::npos) << fault->evidence();
  EXPECT_FALSE(fault->has_verified_at());
  EXPECT_EQ(registry_->live_count(), 1u);
}

TEST_F(FaultRegistryTest, VerifyOffSkipsTheLiveCheckButNotTheGoneCheck) {
  auto fault = registry_->inject(command_verifying(VerifyMode::kOff));
  ASSERT_TRUE(fault.ok());
  EXPECT_EQ(fault->effect(), v1::EFFECT_STATE_NOT_CHECKED);
  EXPECT_EQ(kind_->verify_calls, 0);
  auto reverted = registry_->revert(fault->id());
  ASSERT_TRUE(reverted.ok());
  EXPECT_TRUE(reverted->fault.has_gone_verified_at());
  EXPECT_EQ(reverted->fault.gone_evidence(), "fake object of " + fault->id() + " gone");
}

TEST_F(FaultRegistryTest, AnArmedFaultBecomesVerifiedWhenObserveSeesItsFirstImpairment) {
  kind_->impaired = false;
  auto fault = registry_->inject(command());
  ASSERT_TRUE(fault.ok());
  EXPECT_EQ(fault->effect(), v1::EFFECT_STATE_ARMED);
  EXPECT_FALSE(fault->has_effect_seen_at());
  clock_.advance(1s);
  registry_->tick();  // first observe, a second after the live check: still nothing impaired
  EXPECT_EQ(registry_->list("", false).at(0).effect(), v1::EFFECT_STATE_ARMED);
  EXPECT_EQ(kind_->observe_calls, 1);
  {
    std::lock_guard lock(kind_->mutex);
    kind_->impaired = true;
    kind_->impaired_packets = 7;
  }
  clock_.advance(500ms);
  registry_->tick();  // observe is not due yet (every second)
  EXPECT_EQ(registry_->list("", false).at(0).effect(), v1::EFFECT_STATE_ARMED);
  clock_.advance(500ms);
  registry_->tick();
  const auto live = registry_->list("", false).at(0);
  EXPECT_EQ(live.effect(), v1::EFFECT_STATE_VERIFIED);
  EXPECT_TRUE(live.has_effect_seen_at());
  EXPECT_EQ(live.counters().at("packets_impaired"), 7u);
  EXPECT_EQ(kind_->observe_calls, 2);
  const auto text = metrics_text();
  EXPECT_NE(text.find("chaos_agent_fault_counter{experiment=\"exp-1\",kind=\"network.delay\",node=\"node-a\","
                      "fault_id=\"" + fault->id() + "\",counter=\"packets_impaired\"} 7"),
            std::string::npos)
      << text;
  ASSERT_TRUE(registry_->revert(fault->id()).ok());
  EXPECT_EQ(metrics_text().find("chaos_agent_fault_counter{"), std::string::npos)
      << "a fault's counters go with it";
}

TEST_F(FaultRegistryTest, ARevertWhoseObjectsAreStillThereIsRevertFailedAndRetried) {
  auto fault = registry_->inject(command());
  ASSERT_TRUE(fault.ok());
  kind_->gone_failures = 1;
  auto reverted = registry_->revert(fault->id());
  ASSERT_FALSE(reverted.ok());
  EXPECT_NE(reverted.status().message().find("still there"), std::string::npos) << reverted.status().message();
  auto listed = registry_->list("", false);
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].state(), v1::FAULT_STATE_REVERT_FAILED);
  EXPECT_NE(listed[0].error().find("still there"), std::string::npos) << listed[0].error();
  EXPECT_EQ(journal_files(), 1u) << "the journal keeps a fault that is not proven gone";
  clock_.advance(1s);
  registry_->tick();
  const auto ended = registry_->list("", true);
  ASSERT_EQ(ended.size(), 1u);
  EXPECT_EQ(ended[0].state(), v1::FAULT_STATE_REVERTED);
  EXPECT_TRUE(ended[0].has_gone_verified_at());
  EXPECT_TRUE(ended[0].has_time_to_gone());
  EXPECT_EQ(journal_files(), 0u);
  EXPECT_NE(metrics_text().find("check=\"gone\",result=\"failed\"} 1"), std::string::npos);
}

}  // namespace
}  // namespace chaos::agent

#include "agent/leftover_tracker.h"

namespace chaos::agent {
namespace {

// Snapshots from a script: what the "system" holds is a test's variable.
class ScriptedStateProbe final : public leftovers::SystemStateProbe {
 public:
  leftovers::SystemSnapshot take() override {
    std::lock_guard lock(mutex);
    ++taken;
    leftovers::SystemSnapshot snapshot;
    snapshot.sources["nft list ruleset"] = ruleset;
    return snapshot;
  }
  std::mutex mutex;
  int taken = 0;
  std::vector<std::string> ruleset = {"table inet filter", "table inet filter / chain input: policy accept"};
};

leftovers::ObjectNaming naming_for_tests() {
  leftovers::ObjectNaming naming;
  naming.prefixes = {"chaos_"};
  naming.names_of = [](const std::string& fault_id) { return std::vector<std::string>{"chaos_" + fault_id}; };
  return naming;
}

class LeftoverCheckTest : public FaultRegistryTest {
 protected:
  void SetUp() override {
    tracker_ = std::make_unique<LeftoverTracker>(probe_, naming_for_tests(), clock_, metrics_);
    leftovers_ = tracker_.get();
    FaultRegistryTest::SetUp();
  }
  void TearDown() override {
    FaultRegistryTest::TearDown();
    tracker_.reset();
  }
  ScriptedStateProbe probe_;
  std::unique_ptr<LeftoverTracker> tracker_;
};

TEST_F(LeftoverCheckTest, OneSnapshotBeforeTheExperimentsFirstFaultAndNoneWithoutAnExperiment) {
  ASSERT_TRUE(registry_->inject(command()).ok());
  ASSERT_TRUE(registry_->inject(command()).ok());
  EXPECT_EQ(probe_.taken, 1);
  EXPECT_FALSE(registry_->check_leftovers("").has_value());
}

TEST_F(LeftoverCheckTest, NotComparedWhileAFaultOfTheExperimentIsLive) {
  ASSERT_TRUE(registry_->inject(command()).ok());
  const auto report = registry_->check_leftovers("exp-1");
  ASSERT_TRUE(report.has_value());
  EXPECT_FALSE(report->checked());
  ASSERT_EQ(report->errors_size(), 1);
  EXPECT_NE(report->errors(0).find("still live"), std::string::npos) << report->errors(0);
}

TEST_F(LeftoverCheckTest, AnObjectOfOursLeftAfterTheLastRevertIsALeftoverAndAForeignChangeIsForeign) {
  auto fault = registry_->inject(command());
  ASSERT_TRUE(fault.ok());
  {
    std::lock_guard lock(probe_.mutex);
    probe_.ruleset.push_back("table inet chaos_" + fault->id());                 // ours, left behind
    probe_.ruleset.push_back("table inet filter / chain input: tcp dport 22 accept");  // someone else's
  }
  ASSERT_EQ(registry_->revert_all("exp-1").size(), 1u);
  const auto report = registry_->check_leftovers("exp-1");
  ASSERT_TRUE(report.has_value());
  EXPECT_TRUE(report->checked());
  ASSERT_EQ(report->leftovers_size(), 1);
  EXPECT_EQ(report->leftovers(0).line(), "table inet chaos_" + fault->id());
  EXPECT_EQ(report->leftovers(0).fault_id(), fault->id());
  EXPECT_EQ(report->leftovers(0).change(), "added");
  ASSERT_EQ(report->foreign_size(), 1);
  EXPECT_EQ(report->foreign(0).line(), "table inet filter / chain input: tcp dport 22 accept");
  EXPECT_NE(metrics_text().find("chaos_agent_leftovers_total 1"), std::string::npos) << metrics_text();
  // Asked again without new faults: the same answer, not a second count.
  EXPECT_EQ(registry_->check_leftovers("exp-1")->leftovers_size(), 1);
  EXPECT_EQ(probe_.taken, 2);
  EXPECT_NE(metrics_text().find("chaos_agent_leftovers_total 1"), std::string::npos);
}

TEST_F(LeftoverCheckTest, ACleanRunHasNothingToReport) {
  ASSERT_TRUE(registry_->inject(command()).ok());
  registry_->revert_all("exp-1");
  const auto report = registry_->check_leftovers("exp-1");
  ASSERT_TRUE(report.has_value());
  EXPECT_TRUE(report->checked());
  EXPECT_EQ(report->leftovers_size(), 0);
  EXPECT_EQ(report->foreign_size(), 0);
}

}  // namespace
}  // namespace chaos::agent

namespace chaos::agent {
namespace {

TEST_F(LeftoverCheckTest, AnotherExperimentsLiveFaultIsNotThisExperimentsLeftover) {
  ASSERT_TRUE(registry_->inject(command()).ok());
  InjectCommand other = command();
  other.experiment_id = "exp-2";
  auto other_fault = registry_->inject(other);
  ASSERT_TRUE(other_fault.ok());
  {
    std::lock_guard lock(probe_.mutex);
    probe_.ruleset.push_back("table inet chaos_" + other_fault->id());  // exp-2's, still live
  }
  registry_->revert_all("exp-1");
  const auto report = registry_->check_leftovers("exp-1");
  ASSERT_TRUE(report.has_value());
  EXPECT_TRUE(report->checked());
  EXPECT_EQ(report->leftovers_size(), 0);
  ASSERT_EQ(report->foreign_size(), 1);
  EXPECT_NE(report->foreign(0).line().find("live fault of another experiment"), std::string::npos)
      << report->foreign(0).line();
}

}  // namespace
}  // namespace chaos::agent

namespace chaos::agent {
namespace {

// Each run has its own experiment id and snapshot; on a kube-proxy node one
// is megabytes, so the snapshots kept are bounded in bytes, not only in
// count: a compared experiment's goes before a live one's.
TEST_F(LeftoverCheckTest, SnapshotsOverTheByteBudgetGoComparedFirstThenOldestFirst) {
  {
    std::lock_guard lock(probe_.mutex);
    const std::size_t lines = 20;
    probe_.ruleset.assign(lines, std::string(LeftoverTracker::kMaxSnapshotBytes * 2 / 5 / lines, 'x'));
  }
  const auto in_experiment = [this](const std::string& id) {
    InjectCommand inject = command();
    inject.experiment_id = id;
    return registry_->inject(inject);
  };
  const auto checked = [this](const std::string& id) {
    registry_->revert_all(id);
    const auto report = registry_->check_leftovers(id);
    EXPECT_TRUE(report.has_value()) << id;
    if (report && !report->checked()) {
      EXPECT_EQ(report->errors_size(), 1) << id;
      const std::string error = report->errors_size() > 0 ? report->errors(0) : "";
      EXPECT_NE(error.find("no snapshot"), std::string::npos) << id << ": " << error;
    }
    return report && report->checked();
  };
  ASSERT_TRUE(in_experiment("exp-1").ok());  // stays live
  ASSERT_TRUE(in_experiment("exp-2").ok());
  ASSERT_TRUE(checked("exp-2"));
  ASSERT_TRUE(in_experiment("exp-3").ok());  // over the budget: the compared exp-2 goes, not the older exp-1
  EXPECT_FALSE(checked("exp-2"));
  EXPECT_TRUE(checked("exp-1"));
  ASSERT_TRUE(in_experiment("exp-4").ok());  // the compared exp-1 goes
  ASSERT_TRUE(in_experiment("exp-5").ok());  // none compared: the oldest, exp-3, goes
  EXPECT_FALSE(checked("exp-1"));
  EXPECT_FALSE(checked("exp-3"));
  EXPECT_TRUE(checked("exp-4"));
  EXPECT_TRUE(checked("exp-5"));
}

TEST_F(LeftoverCheckTest, APreflightDryRunTakesTheSnapshotSoTheFirstFaultDoesNotWait) {
  registry_->prepare_leftover_check("");
  EXPECT_EQ(probe_.taken, 0) << "no experiment id (validate): no snapshot";
  registry_->prepare_leftover_check("exp-1");
  registry_->prepare_leftover_check("exp-1");
  EXPECT_EQ(probe_.taken, 1);
  auto fault = registry_->inject(command());
  ASSERT_TRUE(fault.ok());
  EXPECT_EQ(probe_.taken, 1) << "the first fault used the preflight's snapshot";
  {
    std::lock_guard lock(probe_.mutex);
    probe_.ruleset.push_back("table inet chaos_" + fault->id());
  }
  registry_->revert_all("exp-1");
  const auto report = registry_->check_leftovers("exp-1");
  ASSERT_TRUE(report.has_value());
  ASSERT_EQ(report->leftovers_size(), 1);
  EXPECT_EQ(report->leftovers(0).fault_id(), fault->id());
}

}  // namespace
}  // namespace chaos::agent
