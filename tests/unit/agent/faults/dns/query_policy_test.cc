#include "agent/faults/dns/query_policy.h"

#include <gtest/gtest.h>

#include "tests/unit/agent/faults/dns/dns_test_packets.h"

namespace chaos::agent::dns {
namespace {

using testing::make_query;

DnsFaultSpec spec_for(DnsFaultMode mode, double percent = 100.0) {
  DnsFaultSpec spec;
  spec.patterns.push_back(NamePattern::compile("*.lab").value());
  spec.mode = mode;
  spec.percent = percent;
  spec.delay = std::chrono::milliseconds(300);
  spec.spoof.ipv4 = {{10, 0, 0, 9}};
  return spec;
}

TEST(QueryPolicyTest, MatchingNameGetsTheConfiguredRcode) {
  QueryPolicy policy(spec_for(DnsFaultMode::kServFail), 1);
  QueryPlan plan = policy.plan(make_query(5, "NATS-1.LAB"));
  EXPECT_TRUE(plan.faulted);
  ASSERT_EQ(plan.action, QueryPlan::Action::kReply);
  EXPECT_EQ(testing::rcode_of(plan.reply), 2);
}

TEST(QueryPolicyTest, NonMatchingNameIsForwardedUntouched) {
  QueryPolicy policy(spec_for(DnsFaultMode::kNxDomain), 1);
  QueryPlan plan = policy.plan(make_query(5, "example.com"));
  EXPECT_FALSE(plan.faulted);
  EXPECT_EQ(plan.action, QueryPlan::Action::kForward);
  EXPECT_EQ(plan.answer_delay, std::chrono::nanoseconds(0));
}

TEST(QueryPolicyTest, TimeoutDropsDelayForwardsLateSpoofAnswers) {
  QueryPolicy timeout(spec_for(DnsFaultMode::kTimeout), 1);
  EXPECT_EQ(timeout.plan(make_query(1, "a.lab")).action, QueryPlan::Action::kDrop);
  QueryPolicy delay(spec_for(DnsFaultMode::kDelay), 1);
  QueryPlan delayed = delay.plan(make_query(1, "a.lab"));
  EXPECT_EQ(delayed.action, QueryPlan::Action::kForward);
  EXPECT_EQ(delayed.answer_delay, std::chrono::milliseconds(300));
  QueryPolicy spoof(spec_for(DnsFaultMode::kSpoof), 1);
  QueryPlan spoofed = spoof.plan(make_query(1, "a.lab"));
  ASSERT_EQ(spoofed.action, QueryPlan::Action::kReply);
  EXPECT_EQ(testing::answer_count(spoofed.reply), 1);
  EXPECT_EQ(spoofed.reply.back(), 9);
}

TEST(QueryPolicyTest, ResponsesAndScrapsAreDroppedGarbageQueriesForwarded) {
  QueryPolicy policy(spec_for(DnsFaultMode::kNxDomain), 1);
  auto response = make_query(1, "a.lab");
  response[2] |= 0x80;
  EXPECT_EQ(policy.plan(response).action, QueryPlan::Action::kDrop);
  EXPECT_EQ(policy.plan(std::vector<std::uint8_t>(5, 0)).action, QueryPlan::Action::kDrop);
  auto two_questions = make_query(1, "a.lab");
  two_questions[5] = 2;
  EXPECT_EQ(policy.plan(two_questions).action, QueryPlan::Action::kForward);
}

TEST(QueryPolicyTest, PercentHitsAboutThatShareAndIsReproducibleBySeed) {
  constexpr int kQueries = 4000;
  auto faulted_pattern = [](std::uint64_t seed) {
    QueryPolicy policy(spec_for(DnsFaultMode::kNxDomain, 25.0), seed);
    std::vector<bool> hits;
    for (int i = 0; i < kQueries; ++i) hits.push_back(policy.plan(make_query(1, "x.lab")).faulted);
    return hits;
  };
  const auto hits = faulted_pattern(99);
  const auto count = std::count(hits.begin(), hits.end(), true);
  EXPECT_GT(count, kQueries * 20 / 100);
  EXPECT_LT(count, kQueries * 30 / 100);
  EXPECT_EQ(hits, faulted_pattern(99));
  EXPECT_NE(hits, faulted_pattern(100));
}

}  // namespace
}  // namespace chaos::agent::dns
