// What `chaosctl run` does with the history after a run: records it, or
// says in one warning why not (the verdict and exit code are not its
// business), or does nothing with --no-history.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <sstream>

#include "orchestrator/commands/history_support.h"
#include "orchestrator/history/history_store.h"
#include "tests/unit/orchestrator/run_fakes.h"
#include "tests/support/temp_dir.h"

namespace chaos::orchestrator {
namespace {

using ::testing::HasSubstr;

struct HistorySupportRun {
  testing::JumpingClock clock;
  RunJournal journal{clock};
  Experiment experiment;
  RunIdentity identity;
  RunOutcome outcome;

  HistorySupportRun() {
    experiment.title = "pause";
    experiment.source_path = "/nonexistent/pause.toml";
    identity.experiment_id = "pause-1";
    outcome.verdict = Verdict::kViolated;
  }
  std::string record(const HistoryFlags& flags) {
    std::ostringstream warnings;
    record_run_in_history(flags, experiment, identity, journal, outcome, {clock.wall_now(), clock.wall_now()}, "",
                          warnings);
    return warnings.str();
  }
};

TEST(HistorySupport, RecordsTheRunInTheGivenFile) {
  test_support::TempDir dir;
  HistorySupportRun run;
  const std::string path = dir.path() + "/h.sqlite";
  EXPECT_EQ(run.record({path, false}), "");
  auto store = history::open_history_store(path, {history::HistoryOpenMode::kExisting});
  ASSERT_TRUE(store.ok()) << store.status().message();
  auto listed = (*store)->list({});
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ(listed->front().experiment_id, "pause-1");
  EXPECT_EQ(listed->front().verdict, "violated");
}

TEST(HistorySupport, FileThatCannotBeUsedIsOneWarningNamingIt) {
  test_support::TempDir dir;
  HistorySupportRun run;
  const std::string path = dir.write("h.sqlite", std::string(2048, 'x'));
  const std::string warnings = run.record({path, false});
  EXPECT_THAT(warnings, HasSubstr("warning: run not recorded in the history (the verdict stands): " + path +
                                  ": not a chaosctl history database"));
  EXPECT_EQ(std::filesystem::file_size(path), 2048u);  // left as it was
}

TEST(HistorySupport, NoHistoryRecordsNothing) {
  test_support::TempDir dir;
  HistorySupportRun run;
  const char* before = std::getenv("CHAOSCTL_HISTORY");
  const std::string saved = before ? before : "";
  ::setenv("CHAOSCTL_HISTORY", (dir.path() + "/default.sqlite").c_str(), 1);
  EXPECT_EQ(run.record({"", true}), "");
  EXPECT_FALSE(std::filesystem::exists(dir.path() + "/default.sqlite"));
  EXPECT_EQ(run.record({"", false}), "");  // without --no-history: the default path
  EXPECT_TRUE(std::filesystem::exists(dir.path() + "/default.sqlite"));
  ::setenv("CHAOSCTL_HISTORY", saved.c_str(), 1);
}

}  // namespace
}  // namespace chaos::orchestrator
