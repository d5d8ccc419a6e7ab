// The registry when its journal fails: a fault is never left live without
// its journal entry, a revert whose journal entry cannot be removed is still
// a revert, and a journal that cannot be listed at start-up is an error,
// not a clean node.
#include <gtest/gtest.h>

#include <stdexcept>

#include "tests/unit/agent/fake_fault_journal.h"
#include "tests/unit/agent/fault_registry_fixture.h"

namespace chaos::agent {
namespace {

using testing::FakeFaultJournal;

class FaultRegistryJournalTest : public FaultRegistryTest {
 protected:
  void SetUp() override {
    FaultRegistryTest::SetUp();
    registry_ = make_registry(Policy{}, nullptr, &journal_fake_);
  }
  void TearDown() override {
    registry_.reset();
    FaultRegistryTest::TearDown();
  }

  // One fault the agent keeps retrying (REVERT_FAILED), with the
  // "applying" entry a restart would recover from.
  void expect_one_stuck_fault_with_its_applying_entry(const std::string& why) {
    auto live = registry_->list("", false);
    ASSERT_EQ(live.size(), 1u) << why;
    EXPECT_EQ(live[0].state(), v1::FAULT_STATE_REVERT_FAILED);
    ASSERT_EQ(journal_fake_.entries().size(), 1u) << "something may be on the system: its entry must stay";
    EXPECT_EQ(journal_fake_.entries().begin()->second.phase, JournalPhase::kApplying)
        << "the entry a restart recovers from stays until the revert succeeds";
  }

  // Nothing live and no journal entry: the one fault ended REVERTED for `reason`.
  void expect_nothing_left_but_one_reverted_for(const std::string& reason) {
    EXPECT_EQ(registry_->live_count(), 0u);
    EXPECT_TRUE(journal_fake_.entries().empty());
    auto ended = registry_->list("", true);
    ASSERT_EQ(ended.size(), 1u);
    EXPECT_EQ(ended[0].state(), v1::FAULT_STATE_REVERTED);
    EXPECT_EQ(ended[0].revert_reason(), reason);
  }

  FakeFaultJournal journal_fake_;
};

const Status kDiskFull = internal_error("journal: No space left on device");

TEST_F(FaultRegistryJournalTest, AnApplyingEntryThatCannotBeWrittenRefusesTheInjectAndAppliesNothing) {
  journal_fake_.fail_writes(kDiskFull);
  auto refused = registry_->inject(command());
  EXPECT_EQ(refused.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(refused.status().message().find("so it was not applied: journal: No space left on device"),
            std::string::npos)
      << refused.status().message();
  EXPECT_TRUE(kind_->applied.empty());
  EXPECT_EQ(registry_->live_count(), 0u);
  EXPECT_TRUE(journal_fake_.entries().empty());
}

TEST_F(FaultRegistryJournalTest, AnUndoRecordThatCannotBeWrittenRevertsTheFaultAndFailsTheInject) {
  journal_fake_.fail_writes(kDiskFull, 2);  // "applying" is written, "applied" is not
  auto with_id = command();
  with_id.request_id = "req-1";
  auto refused = registry_->inject(with_id);
  EXPECT_EQ(refused.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(refused.status().message().find("so it was reverted"), std::string::npos) << refused.status().message();
  ASSERT_EQ(kind_->applied.size(), 1u);
  EXPECT_EQ(kind_->reverted, kind_->applied) << "applied but not journaled: it must be reverted at once";
  ASSERT_NO_FATAL_FAILURE(expect_nothing_left_but_one_reverted_for("journal_failed"));
  const std::string reverted_id = registry_->list("", true)[0].id();
  journal_fake_.heal();
  auto again = registry_->inject(with_id);
  ASSERT_TRUE(again.ok()) << again.status().to_string();
  EXPECT_NE(again->id(), reverted_id) << "a repeat of a failed inject got the reverted fault";
  EXPECT_EQ(again->state(), v1::FAULT_STATE_ACTIVE);
}

TEST_F(FaultRegistryJournalTest, AnUnjournaledFaultWhoseRevertFailsStaysRevertFailedAndIsRetried) {
  journal_fake_.fail_writes(kDiskFull, 2);
  kind_->revert_failures = 1;
  auto refused = registry_->inject(command());
  EXPECT_EQ(refused.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(refused.status().message().find("keeps retrying"), std::string::npos) << refused.status().message();
  ASSERT_NO_FATAL_FAILURE(expect_one_stuck_fault_with_its_applying_entry("a fault on the system that nobody retries"));
  clock_.advance(1s);
  registry_->tick();
  EXPECT_EQ(registry_->live_count(), 0u);
  EXPECT_EQ(kind_->reverted, kind_->applied);
  EXPECT_TRUE(journal_fake_.entries().empty());
}

TEST_F(FaultRegistryJournalTest, ARevertWhoseEntryCannotBeRemovedIsReportedRevertedAndRecoveredAgainAtStart) {
  auto fault = registry_->inject(command());
  ASSERT_TRUE(fault.ok());
  journal_fake_.fail_removes(internal_error("journal: unlink: Read-only file system"));
  auto reverted = registry_->revert(fault->id());
  ASSERT_TRUE(reverted.ok()) << "the fault is gone from the system";
  EXPECT_EQ(reverted->fault.state(), v1::FAULT_STATE_REVERTED);
  EXPECT_EQ(registry_->live_count(), 0u);
  EXPECT_TRUE(logged("journal entry stays"));
  ASSERT_EQ(journal_fake_.entries().size(), 1u);
  journal_fake_.heal();
  auto restarted = make_registry(Policy{}, nullptr, &journal_fake_);
  EXPECT_EQ(restarted->recover_from_journal().value(), 1);
  ASSERT_EQ(kind_->recovered.size(), 1u) << "reverted again (idempotent) by the next start";
  EXPECT_EQ(kind_->recovered[0].first, fault->id());
  EXPECT_TRUE(journal_fake_.entries().empty());
}

TEST_F(FaultRegistryJournalTest, AFailedApplyWhoseEntryCannotBeRemovedIsRecoveredAtStart) {
  kind_->apply_error = internal_error("tc: no such device");
  journal_fake_.fail_removes(internal_error("journal: unlink: Input/output error"));
  auto refused = registry_->inject(command());
  EXPECT_EQ(refused.status().message(), "tc: no such device");
  EXPECT_EQ(registry_->live_count(), 0u);
  journal_fake_.heal();
  auto restarted = make_registry(Policy{}, nullptr, &journal_fake_);
  EXPECT_EQ(restarted->recover_from_journal().value(), 1);
  ASSERT_EQ(kind_->recovered.size(), 1u);
  EXPECT_TRUE(kind_->recovered[0].second.is_null()) << "recovered as a crash mid-apply";
}

TEST_F(FaultRegistryJournalTest, AFailedApplyWhoseRollbackFailsIsRetriedUntilGoneWithItsEntryKeptMeanwhile) {
  kind_->apply_error = internal_error("tc: no such device");
  kind_->rollback_failures = 2;  // the apply's own unwind, then the registry's first try
  auto refused = registry_->inject(command());
  EXPECT_EQ(refused.status().code(), StatusCode::kInternal);
  EXPECT_NE(refused.status().message().find("tc: no such device; its rollback could not undo fake rule, nor could a "
                                            "retry (undoing fake rule: fake rule still in use)"),
            std::string::npos)
      << refused.status().message();
  ASSERT_NO_FATAL_FAILURE(
      expect_one_stuck_fault_with_its_applying_entry("a rule the failed apply left must not be forgotten"));
  clock_.advance(1s);
  registry_->tick();
  EXPECT_EQ(kind_->rollbacks_run, 3);
  expect_nothing_left_but_one_reverted_for("apply_failed");
}

TEST_F(FaultRegistryJournalTest, AFailedApplyWhoseRollbackSucceedsOnTheRegistrysRetryFailsTheInjectAndLeavesNothing) {
  kind_->apply_error = internal_error("tc: no such device");
  kind_->rollback_failures = 1;
  auto refused = registry_->inject(command());
  EXPECT_EQ(refused.status().message(),
            "tc: no such device; its rollback could not undo fake rule at first; a retry did");
  EXPECT_EQ(kind_->rollbacks_run, 2);
  EXPECT_EQ(registry_->live_count(), 0u);
  EXPECT_TRUE(journal_fake_.entries().empty());
}

TEST_F(FaultRegistryJournalTest, AnApplyThatThrowsAndCannotBeCleanedUpIsRetriedAndKeepsItsEntryMeanwhile) {
  kind_->before_apply = [](const std::string&) { throw std::runtime_error("half applied"); };
  kind_->recover_failures = 2;  // the clean-up after the throw, and its first retry
  auto refused = registry_->inject(command());
  EXPECT_NE(refused.status().message().find("apply threw: half applied; its rollback could not undo the clean-up "
                                            "after the apply threw, nor could a retry"),
            std::string::npos)
      << refused.status().message();
  ASSERT_NO_FATAL_FAILURE(expect_one_stuck_fault_with_its_applying_entry("the clean-up must be retried"));
  clock_.advance(1s);
  registry_->tick();
  EXPECT_EQ(kind_->recovered.size(), 1u);
  EXPECT_EQ(registry_->live_count(), 0u);
  EXPECT_TRUE(journal_fake_.entries().empty());
}

TEST_F(FaultRegistryJournalTest, AnApplyThatThrowsAndCannotBeCleanedUpByAStoppingAgentIsRecoveredAtTheNextStart) {
  kind_->before_apply = [](const std::string&) { throw std::runtime_error("half applied"); };
  kind_->recover_failures = 2;
  ASSERT_FALSE(registry_->inject(command()).ok());
  registry_.reset();  // stops before the retry: the entry is what is left
  ASSERT_EQ(journal_fake_.entries().size(), 1u);
  auto restarted = make_registry(Policy{}, nullptr, &journal_fake_);
  EXPECT_EQ(restarted->recover_from_journal().value(), 1);
  EXPECT_TRUE(journal_fake_.entries().empty());
}

TEST_F(FaultRegistryJournalTest, AJournalThatCannotBeListedFailsRecoveryInsteadOfPassingForClean) {
  auto fault = registry_->inject(command());
  ASSERT_TRUE(fault.ok());
  journal_fake_.fail_listing(internal_error("journal: cannot list /var/lib/chaos/journal: Input/output error"));
  auto restarted = make_registry(Policy{}, nullptr, &journal_fake_);
  auto recovered = restarted->recover_from_journal();
  ASSERT_FALSE(recovered.ok());
  EXPECT_NE(recovered.status().message().find("cannot list"), std::string::npos);
  EXPECT_TRUE(kind_->recovered.empty());
  EXPECT_EQ(journal_fake_.entries().size(), 1u) << "nothing was dropped";
}

}  // namespace
}  // namespace chaos::agent
