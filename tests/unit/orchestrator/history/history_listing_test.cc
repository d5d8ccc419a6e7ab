// `chaosctl history` output: the text table and the JSON document.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "orchestrator/history/history_listing.h"

namespace chaos::orchestrator::history {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr double kListingT0 = 1'795'000'000;  // 2026-11-18 11:06:40 UTC

std::vector<HistoryEntry> two_runs() {
  HistoryEntry newest;
  newest.experiment_id = "kill-2";
  newest.title = "kill one broker\x1b[31m";
  newest.file_path = "/e/kill.toml";
  newest.started_at = kListingT0 + 3600;
  newest.finished_at = kListingT0 + 3660;
  newest.verdict = "violated";
  newest.exit_code = 1;
  newest.reason = "ratio failed";
  newest.time_to_recovery_seconds = 4.2;
  newest.slo_worst = {{"ratio", "q", ">=", 0.99, 0.9, false}};
  newest.faults = {{"kill", "process.kill", "n1", "a:1", "f-1", "revert", kListingT0 + 3610, kListingT0 + 3640, false}};
  HistoryEntry older = newest;
  older.experiment_id = "kill-1";
  older.title = "kill one broker";
  older.started_at = kListingT0;
  older.verdict = "held";
  older.exit_code = 0;
  older.time_to_recovery_seconds.reset();
  older.faults.clear();
  return {newest, older};
}

TEST(HistoryListing, TextIsOneLinePerRunWithoutControlCharacters) {
  const std::string text = format_history_text(two_runs());
  EXPECT_THAT(text, HasSubstr("STARTED (UTC)"));
  EXPECT_THAT(text, HasSubstr("2026-11-18 12:06:40  violated  4.2 s     -         1       kill one broker?[31m"));
  EXPECT_THAT(text, HasSubstr("2026-11-18 11:06:40  held      -         -         0       kill one broker"));
  EXPECT_THAT(text, Not(HasSubstr("\x1b")));
  EXPECT_LT(text.find("kill-2"), text.find("kill-1"));  // newest first, as given
}

TEST(HistoryListing, JsonNamesTheCheckThatDetectedTheFault) {
  auto runs = two_runs();
  runs[0].time_to_detect_seconds = 2;
  runs[0].detected_by = "ratio vs control";
  runs[0].detected_by_kind = "compare";
  const auto json = history_to_json(runs);
  EXPECT_EQ(json["runs"][0]["detected_by"], (nlohmann::json{{"name", "ratio vs control"}, {"kind", "compare"}}));
}

TEST(HistoryListing, TextSaysWhenThereAreNoRuns) {
  EXPECT_EQ(format_history_text({}), "no runs recorded\n");
}

TEST(HistoryListing, JsonHasEveryColumnAndNullForWhatWasNotMeasured) {
  const auto json = history_to_json(two_runs());
  ASSERT_EQ(json["runs"].size(), 2u);
  const auto& run = json["runs"][0];
  EXPECT_EQ(run["experiment_id"], "kill-2");
  EXPECT_EQ(run["file"], "/e/kill.toml");
  EXPECT_EQ(run["started_at"], "2026-11-18T12:06:40.000Z");
  EXPECT_EQ(run["verdict"], "violated");
  EXPECT_EQ(run["exit_code"], 1);
  EXPECT_DOUBLE_EQ(run["time_to_recovery_seconds"].get<double>(), 4.2);
  EXPECT_TRUE(run["time_to_detect_seconds"].is_null());
  EXPECT_EQ(run["slo_worst"][0]["name"], "ratio");
  EXPECT_DOUBLE_EQ(run["slo_worst"][0]["worst"].get<double>(), 0.9);
  EXPECT_EQ(run["faults"][0]["kind"], "process.kill");
  EXPECT_EQ(run["faults"][0]["node"], "n1");
  EXPECT_TRUE(run["faults"][0]["reverted_at"].is_string());
  EXPECT_TRUE(run["detected_by"].is_null());  // nothing detected: null, not {"name": ""}
  EXPECT_TRUE(json["runs"][1]["time_to_recovery_seconds"].is_null());
  EXPECT_EQ(history_to_json({}).dump(), R"({"runs":[]})");
}

}  // namespace
}  // namespace chaos::orchestrator::history
