// The history row of a run: the worst value per SLO in the direction of its
// comparator, and every column from experiment, identity, journal, outcome,
// times and report directory.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>

#include "orchestrator/history/history_entry.h"
#include "tests/unit/orchestrator/run_fakes.h"
#include "tests/support/temp_dir.h"

namespace chaos::orchestrator::history {
namespace {

using namespace std::chrono_literals;

EvaluationRecord evaluation(const std::string& name, Comparator comparator, double threshold,
                            std::optional<double> value, const std::string& kind = "steady_state") {
  EvaluationRecord record;
  record.phase = "during";
  record.kind = kind;
  record.evaluation.name = name;
  record.evaluation.query = "q_" + name;
  record.evaluation.comparator = comparator;
  record.evaluation.threshold = threshold;
  record.evaluation.value = value;
  record.evaluation.has_data = value.has_value();
  return record;
}

TEST(HistoryEntry, WorstValuePerSloFollowsItsComparator) {
  const std::vector<EvaluationRecord> evaluations = {
      evaluation("ratio", Comparator::kGreaterEqual, 0.97, 0.99),
      evaluation("latency", Comparator::kLessEqual, 0.2, 0.10),
      evaluation("ratio", Comparator::kGreaterEqual, 0.97, 0.95),
      evaluation("latency", Comparator::kLessEqual, 0.2, 0.25),
      evaluation("ratio", Comparator::kGreaterEqual, 0.97, 0.98),
      evaluation("latency", Comparator::kLessEqual, 0.2, 0.12),
      evaluation("ratio", Comparator::kGreaterEqual, 0.97, std::nullopt),  // no data: not a value
      evaluation("ratio", Comparator::kGreaterEqual, 0.97, NAN),
      evaluation("collapsed", Comparator::kLess, 0.5, 0.01, "abort"),  // abort conditions are no SLO
  };
  const auto worst = worst_slo_values(evaluations);
  ASSERT_EQ(worst.size(), 2u);
  EXPECT_EQ(worst[0].name, "ratio");
  EXPECT_EQ(worst[0].comparator, ">=");
  EXPECT_DOUBLE_EQ(worst[0].worst, 0.95);  // the lowest for >=
  EXPECT_FALSE(worst[0].held);
  EXPECT_EQ(worst[1].name, "latency");
  EXPECT_DOUBLE_EQ(worst[1].worst, 0.25);  // the highest for <=
  EXPECT_DOUBLE_EQ(worst[1].threshold, 0.2);
  EXPECT_EQ(worst[1].query, "q_latency");
  EXPECT_FALSE(worst[1].held);
}

TEST(HistoryEntry, WorstValueThatStillHeldIsMarkedHeld) {
  const auto worst = worst_slo_values({evaluation("up", Comparator::kGreater, 0, 3),
                                       evaluation("up", Comparator::kGreater, 0, 2)});
  ASSERT_EQ(worst.size(), 1u);
  EXPECT_DOUBLE_EQ(worst[0].worst, 2);
  EXPECT_TRUE(worst[0].held);
}

TEST(HistoryEntry, RowCarriesEveryColumnOfTheRun) {
  test_support::TempDir dir;
  testing::JumpingClock clock;
  RunJournal journal(clock);
  journal.evaluation("during", "steady_state", evaluation("ratio", Comparator::kGreaterEqual, 0.9, 0.8).evaluation);
  FaultRecord fault;
  fault.step = "kill";
  fault.agent = "10.0.0.1:9700";
  fault.node = "n1";
  fault.fault_id = "f-1";
  fault.kind = "process.kill";
  fault.applied_at = clock.wall_now();
  journal.fault_applied(fault);
  journal.fault_reverted("10.0.0.1:9700", "f-1", "revert");

  Experiment experiment;
  experiment.title = "kill one broker";
  experiment.source_path = dir.write("kill.toml", "abc");
  RunIdentity identity;
  identity.experiment_id = "kill-one-broker-1";
  RunOutcome outcome;
  outcome.verdict = Verdict::kViolated;
  outcome.reason = "ratio failed";
  outcome.time_to_recovery = 1500ms;
  outcome.time_to_detect = 3s;
  outcome.detected_by = "ratio";
  outcome.detected_by_kind = "steady_state";
  outcome.leftovers = {"nft table on n1"};
  const WallTime started = clock.wall_now();
  const auto entry = make_history_entry(experiment, identity, journal, outcome, {started, started + 60s},
                                        dir.path() + "/report/../report");

  EXPECT_EQ(entry.experiment_id, "kill-one-broker-1");
  EXPECT_EQ(entry.title, "kill one broker");
  EXPECT_EQ(entry.file_path, dir.path() + "/kill.toml");
  EXPECT_EQ(entry.file_sha256, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_DOUBLE_EQ(entry.finished_at - entry.started_at, 60);
  EXPECT_EQ(entry.verdict, "violated");
  EXPECT_EQ(entry.exit_code, 1);
  EXPECT_EQ(entry.reason, "ratio failed");
  ASSERT_TRUE(entry.time_to_recovery_seconds);
  EXPECT_DOUBLE_EQ(*entry.time_to_recovery_seconds, 1.5);
  ASSERT_TRUE(entry.time_to_detect_seconds);
  EXPECT_DOUBLE_EQ(*entry.time_to_detect_seconds, 3);
  EXPECT_EQ(entry.detected_by, "ratio");
  EXPECT_EQ(entry.detected_by_kind, "steady_state");
  EXPECT_EQ(entry.report_dir, dir.path() + "/report");
  ASSERT_EQ(entry.slo_worst.size(), 1u);
  EXPECT_DOUBLE_EQ(entry.slo_worst[0].worst, 0.8);
  ASSERT_EQ(entry.faults.size(), 1u);
  EXPECT_EQ(entry.faults[0].kind, "process.kill");
  EXPECT_EQ(entry.faults[0].node, "n1");
  EXPECT_TRUE(entry.faults[0].reverted_at);
  EXPECT_EQ(entry.leftovers, outcome.leftovers);
}

TEST(HistoryEntry, UnreadableExperimentFileOnlyLeavesTheHashOut) {
  testing::JumpingClock clock;
  RunJournal journal(clock);
  Experiment experiment;
  experiment.title = "gone";
  experiment.source_path = "/nonexistent/gone.toml";
  const auto entry = make_history_entry(experiment, {}, journal, {}, {clock.wall_now(), clock.wall_now()}, "");
  EXPECT_EQ(entry.file_sha256, "");
  EXPECT_EQ(entry.file_path, "/nonexistent/gone.toml");
  EXPECT_EQ(entry.report_dir, "");
  EXPECT_FALSE(entry.time_to_recovery_seconds);
}

}  // namespace
}  // namespace chaos::orchestrator::history
