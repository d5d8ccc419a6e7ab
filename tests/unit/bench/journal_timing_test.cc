// Breach -> abort -> all-reverted times from a run journal.
#include "bench/support/journal_timing.h"

#include <gtest/gtest.h>

namespace chaos::bench {
namespace {

nlohmann::json journal() {
  return {
      {"schema", "chaos.journal/v1"},
      {"evaluations",
       {{{"at", "2026-11-23T10:00:03.000Z"}, {"phase", "during"}, {"kind", "abort"}, {"pass", false}},
        {{"at", "2026-11-23T10:00:04.000Z"}, {"phase", "during"}, {"kind", "steady_state"}, {"pass", true}},
        {{"at", "2026-11-23T10:00:05.250Z"}, {"phase", "during"}, {"kind", "abort"}, {"pass", true}},
        {{"at", "2026-11-23T10:00:07.000Z"}, {"phase", "during"}, {"kind", "abort"}, {"pass", true}}}},
      {"events",
       {{{"at", "2026-11-23T10:00:01.000Z"}, {"type", "phase"}},
        {{"at", "2026-11-23T10:00:05.300Z"}, {"type", "abort"}}}},
      {"faults",
       {{{"fault_id", "a"}, {"applied_at", "2026-11-23T10:00:02.000Z"}, {"reverted_at", "2026-11-23T10:00:05.500Z"}},
        {{"fault_id", "b"}, {"applied_at", "2026-11-23T10:00:02.100Z"}, {"reverted_at", "2026-11-23T10:00:05.900Z"}}}},
      {"verdict", {{"result", "aborted"}}}};
}

TEST(Rfc3339Test, ParsesMillisecondsAndRefusesOtherShapes) {
  EXPECT_EQ(*parse_rfc3339_ms("1970-01-01T00:00:01.250Z"), 1250);
  EXPECT_EQ(*parse_rfc3339_ms("1970-01-02T00:00:00Z"), 86'400'000);
  EXPECT_EQ(*parse_rfc3339_ms("1970-01-01T00:00:00.5Z"), 500);
  EXPECT_FALSE(parse_rfc3339_ms("yesterday").has_value());
  EXPECT_FALSE(parse_rfc3339_ms("1970-01-01T00:00:00+02:00").has_value());
}

TEST(BreachTimingTest, MeasuresFromTheFirstBreachingAbortEvaluation) {
  auto timing = breach_timing(journal());
  ASSERT_TRUE(timing.ok()) << timing.status().to_string();
  EXPECT_DOUBLE_EQ(timing->inject_to_breach_seen_s, 3.25);
  EXPECT_DOUBLE_EQ(timing->breach_to_abort_s, 0.05);
  EXPECT_DOUBLE_EQ(timing->abort_to_all_reverted_s, 0.6);
  EXPECT_DOUBLE_EQ(timing->breach_to_all_reverted_s, 0.65);
  EXPECT_EQ(timing->faults, 2);
  EXPECT_EQ(timing->verdict, "aborted");
}

TEST(BreachTimingTest, ExplainsWhatIsMissing) {
  auto no_breach = journal();
  no_breach["evaluations"] = nlohmann::json::array();
  EXPECT_NE(breach_timing(no_breach).status().message().find("no breach"), std::string::npos);
  auto unreverted = journal();
  unreverted["faults"][1]["reverted_at"] = nullptr;
  EXPECT_NE(breach_timing(unreverted).status().message().find("never reverted"), std::string::npos);
  EXPECT_FALSE(breach_timing(nlohmann::json::object()).ok());
}

}  // namespace
}  // namespace chaos::bench
