// Start-up recovery that fails stays live and is retried; corrupt journal
// entries are reverted by fault id where a kind can, and kept and counted
// where none can; bounds. (The journal itself failing:
// fault_registry_journal_test.cc.)
#include <gtest/gtest.h>

#include <fstream>

#include "tests/unit/agent/fault_registry_fixture.h"

namespace chaos::agent {
namespace {

JournalEntry left_behind(const std::string& id) {
  return JournalEntry{id, "network.delay", "exp-old", "", delay_spec(), 60s, JournalPhase::kApplied,
                      {{"token", "t-" + id}}, WallTime(std::chrono::seconds(1'800'000'000))};
}

TEST_F(FaultRegistryTest, FailedRecoveryStaysLiveAsRevertFailedAndIsRetried) {
  ASSERT_TRUE(journal_->write(left_behind("fleft1"), JournalFlush::kToDisk).ok());
  kind_->recover_failures = 2;
  auto restarted = make_registry(Policy{});
  EXPECT_EQ(restarted->recover_from_journal().value(), 0);
  auto live = restarted->list("", false);
  ASSERT_EQ(live.size(), 1u) << "a failed recovery must stay visible";
  EXPECT_EQ(live[0].id(), "fleft1");
  EXPECT_EQ(live[0].state(), v1::FAULT_STATE_REVERT_FAILED);
  EXPECT_EQ(live[0].revert_reason(), "recovery");
  EXPECT_NE(live[0].detail().find("fake recover failure"), std::string::npos);
  EXPECT_NE(metrics_text().find("chaos_agent_faults_revert_failed 1"), std::string::npos) << metrics_text();
  auto refused = restarted->revert("fleft1");
  EXPECT_FALSE(refused.ok()) << "Revert must not say already_reverted for a fault still on the system";
  clock_.advance(1s);
  restarted->tick();
  EXPECT_EQ(restarted->live_count(), 0u);
  ASSERT_EQ(kind_->recovered.size(), 1u);
  EXPECT_EQ(kind_->recovered[0].second["token"], "t-fleft1");
  EXPECT_EQ(journal_files(), 0u);
  EXPECT_NE(metrics_text().find("chaos_agent_faults_revert_failed 0"), std::string::npos);
}

// Time to gone counts from the start of the recovery, not from whenever the
// steady clock began.
TEST_F(FaultRegistryTest, ARecoveredFaultsTimeToGoneIsWithinTheRecovery) {
  ASSERT_TRUE(journal_->write(left_behind("fleft1"), JournalFlush::kToDisk).ok());
  auto restarted = make_registry(Policy{});
  const auto before = std::chrono::steady_clock::now();
  ASSERT_EQ(restarted->recover_from_journal().value(), 1);
  const auto recovery = std::chrono::steady_clock::now() - before;
  const auto ended = restarted->list("", true);
  ASSERT_EQ(ended.size(), 1u);
  ASSERT_TRUE(ended[0].has_time_to_gone());
  const auto time_to_gone =
      std::chrono::seconds(ended[0].time_to_gone().seconds()) + std::chrono::nanoseconds(ended[0].time_to_gone().nanos());
  EXPECT_LE(time_to_gone, recovery);
}

TEST_F(FaultRegistryTest, RevertAllRetriesAFailedRecoveryAndReportsIt) {
  ASSERT_TRUE(journal_->write(left_behind("fleft1"), JournalFlush::kToDisk).ok());
  kind_->recover_failures = 2;
  auto restarted = make_registry(Policy{});
  ASSERT_TRUE(restarted->recover_from_journal().ok());
  auto first = restarted->revert_all("");
  ASSERT_EQ(first.size(), 1u) << "RevertAll must not skip a fault whose recovery failed";
  EXPECT_EQ(first[0].state(), v1::FAULT_STATE_REVERT_FAILED);
  auto second = restarted->revert_all("");
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0].state(), v1::FAULT_STATE_REVERTED);
}

TEST_F(FaultRegistryTest, CorruptEntryIsRevertedByItsIdWhereAKindCan) {
  std::ofstream(std::filesystem::path(journal_->directory()) / "fbad1.json") << "{\"fault_id\": ";
  kind_->recovers_by_id = true;
  auto restarted = make_registry(Policy{});
  EXPECT_EQ(restarted->recover_from_journal().value(), 1);
  EXPECT_EQ(kind_->recovered_by_id, std::vector<std::string>{"fbad1"});
  EXPECT_FALSE(std::filesystem::exists(std::filesystem::path(journal_->directory()) / "fbad1.json.corrupt"));
  EXPECT_NE(metrics_text().find("chaos_agent_journal_corrupt_entries_total{outcome=\"reverted\"} 1"),
            std::string::npos)
      << metrics_text();
}

TEST_F(FaultRegistryTest, CorruptEntryNoKindCanRevertIsKeptCountedAndReportedLoudly) {
  const auto dir = std::filesystem::path(journal_->directory());
  std::ofstream(dir / "fbad2.json") << "not json";
  auto restarted = make_registry(Policy{});
  EXPECT_EQ(restarted->recover_from_journal().value(), 0);
  EXPECT_TRUE(std::filesystem::exists(dir / "fbad2.json.corrupt"));
  EXPECT_EQ(restarted->live_count(), 0u) << "nothing can act on it: not listed, or every RevertAll would fail";
  EXPECT_NE(metrics_text().find("chaos_agent_journal_corrupt_entries_total{outcome=\"kept\"} 1"), std::string::npos);
  const bool loud = std::any_of(log_.begin(), log_.end(), [](const std::string& line) {
    return line.find("CORRUPT") != std::string::npos && line.find("fbad2.json.corrupt kept") != std::string::npos;
  });
  EXPECT_TRUE(loud);
  // A later start sees it again (it is still not reverted).
  auto again = make_registry(Policy{});
  ASSERT_TRUE(again->recover_from_journal().ok());
  EXPECT_NE(metrics_text().find("chaos_agent_journal_corrupt_entries_total{outcome=\"kept\"} 2"), std::string::npos);
}

TEST_F(FaultRegistryTest, CorruptEntryWhoseRevertByIdFailsIsRetried) {
  std::ofstream(std::filesystem::path(journal_->directory()) / "fbad3.json") << "{";
  // A kind that can recover by id but fails once.
  class FlakyById final : public FaultKind {
   public:
    std::string name() const override { return "network.loss"; }
    Status validate(const v1::FaultSpec&) const override { return {}; }
    StatusOr<std::unique_ptr<LiveFault>> apply(const v1::FaultSpec&, const FaultContext&) override {
      return internal_error("not used");
    }
    Status recover(const v1::FaultSpec&, const FaultContext&, const nlohmann::json&) override { return {}; }
    Status recover_by_id(const FaultContext&) override {
      return ++calls == 1 ? internal_error("nft busy") : Status{};
    }
    std::string backend() const override { return "fake"; }
    int calls = 0;
  };
  auto restarted = make_registry(Policy{});
  restarted->add_kind(std::make_unique<FlakyById>());
  ASSERT_TRUE(restarted->recover_from_journal().ok());
  auto live = restarted->list("", false);
  ASSERT_EQ(live.size(), 1u);
  EXPECT_EQ(live[0].id(), "fbad3");
  EXPECT_EQ(live[0].state(), v1::FAULT_STATE_REVERT_FAILED);
  clock_.advance(1s);
  restarted->tick();
  EXPECT_EQ(restarted->live_count(), 0u);
  EXPECT_FALSE(std::filesystem::exists(std::filesystem::path(journal_->directory()) / "fbad3.json.corrupt"));
}

TEST_F(FaultRegistryTest, LiveFaultsAreCappedWithAnErrorNamingTheLimit) {
  Policy policy;
  policy.max_live_faults = 2;
  registry_ = make_registry(policy);
  ASSERT_TRUE(registry_->inject(command()).ok());
  ASSERT_TRUE(registry_->inject(command()).ok());
  auto third = registry_->inject(command());
  EXPECT_EQ(third.status().code(), StatusCode::kResourceExhausted);
  EXPECT_NE(third.status().message().find("policy.max_live_faults"), std::string::npos) << third.status().message();
  EXPECT_EQ(kind_->applied.size(), 2u);
}

TEST_F(FaultRegistryTest, LeaseTtlsAreCappedBeforeAnyArithmetic) {
  auto too_long = registry_->inject(command(60s, "lease-1", Duration::max()));
  EXPECT_EQ(too_long.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(too_long.status().message().find("policy.max_lease_ttl"), std::string::npos);
  ASSERT_TRUE(registry_->inject(command(60s, "lease-1", 10s)).ok());
  auto renewal = registry_->renew_lease("lease-1", Duration::max());
  EXPECT_EQ(renewal.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(renewal.status().message().find("ttl: "), std::string::npos);
}

TEST_F(FaultRegistryTest, HugeDurationsAreRefusedNotOverflowed) {
  for (Duration huge : {Duration::max(), Duration(std::chrono::hours(24 * 365 * 200)), kDurationCeiling + 1ns}) {
    auto refused = registry_->inject(command(huge));
    EXPECT_EQ(refused.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(refused.status().message().find("policy.max_duration"), std::string::npos);
  }
  EXPECT_TRUE(kind_->applied.empty());
}

}  // namespace
}  // namespace chaos::agent
