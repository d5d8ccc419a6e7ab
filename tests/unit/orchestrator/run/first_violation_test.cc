// The first violation of a run (issue 23): computed from the recorded
// evaluations only, written to journal.json and leading junit.xml's
// failure messages.
#include "orchestrator/run/first_violation.h"

#include <cmath>
#include <limits>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/rfc3339.h"
#include "orchestrator/run/journal_json.h"
#include "orchestrator/run/junit_writer.h"

namespace chaos::orchestrator {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;
using namespace std::chrono_literals;

const WallTime kFvT0 = WallTime{} + std::chrono::seconds(1'800'000'000);  // 2027-01-15T08:00:00Z

Evaluation fv_evaluation(const std::string& name, bool holds, std::optional<double> value,
                         const std::string& text, double threshold = 0.99) {
  Evaluation e;
  e.name = name;
  e.query = "ratio_of_" + name;
  e.comparator = Comparator::kGreaterEqual;
  e.threshold = threshold;
  e.has_data = value.has_value() || text == "NaN";
  e.holds = holds;
  e.value = value;
  e.value_text = text;
  return e;
}

EvaluationRecord fv_record(std::chrono::seconds at, const std::string& phase, const std::string& kind,
                           const Evaluation& evaluation) {
  return {kFvT0 + at, phase, kind, evaluation};
}

TEST(FirstViolationTest, EarliestFailedCheckWinsWhateverTheRecordOrder) {
  const std::vector<EvaluationRecord> records = {
      fv_record(30s, "after", "steady_state", fv_evaluation("late", false, 0.5, "0.5")),
      fv_record(10s, "during", "steady_state", fv_evaluation("ok", true, 1.0, "1")),
      fv_record(12s, "during", "steady_state", fv_evaluation("p99", false, 0.95, "0.95")),
      fv_record(20s, "during", "steady_state", fv_evaluation("other", false, 0.9, "0.9")),
  };
  const auto first = find_first_violation(records, kFvT0 + 4s);
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->name, "p99");
  EXPECT_EQ(first->phase, "during");
  EXPECT_EQ(first->query, "ratio_of_p99");
  EXPECT_EQ(first->value, 0.95);
  EXPECT_EQ(first->at, kFvT0 + 12s);
  ASSERT_TRUE(first->seconds_after_inject.has_value());
  EXPECT_DOUBLE_EQ(*first->seconds_after_inject, 8.0);
  EXPECT_EQ(describe(*first), "p99 [during] at 2027-01-15T08:00:12.000Z (+8.0 s after the first inject): "
                              "0.95 >= 0.99 failed");
}

TEST(FirstViolationTest, ABeforePhaseBreakHasNoSecondsAfterInject) {
  const std::vector<EvaluationRecord> records = {
      fv_record(1s, "before", "steady_state", fv_evaluation("p99", false, 0.5, "0.5"))};
  const auto first = find_first_violation(records, std::nullopt);
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->phase, "before");
  EXPECT_FALSE(first->seconds_after_inject.has_value());
  EXPECT_THAT(describe(*first), HasSubstr("[before] at 2027-01-15T08:00:01.000Z (before any inject): 0.5 >= 0.99"));
  // Even if an inject time were known, a before-phase break is not timed against it.
  EXPECT_FALSE(find_first_violation(records, kFvT0)->seconds_after_inject.has_value());
}

TEST(FirstViolationTest, TiesKeepTheEvaluationRecordedFirst) {
  const std::vector<EvaluationRecord> records = {
      fv_record(5s, "during", "steady_state", fv_evaluation("second listed", true, 1.0, "1")),
      fv_record(5s, "during", "steady_state", fv_evaluation("a", false, 0.1, "0.1")),
      fv_record(5s, "during", "compare", fv_evaluation("b", false, 0.2, "0.2")),
  };
  EXPECT_EQ(find_first_violation(records, kFvT0)->name, "a");
}

TEST(FirstViolationTest, NaNAndNoDataHaveNoValueButKeepTheirText) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const std::vector<EvaluationRecord> nan_record = {
      fv_record(3s, "during", "steady_state", fv_evaluation("ratio", false, nan, "NaN"))};
  const auto first = find_first_violation(nan_record, kFvT0);
  ASSERT_TRUE(first.has_value());
  EXPECT_FALSE(first->value.has_value());
  EXPECT_EQ(first->value_text, "NaN");
  EXPECT_THAT(describe(*first), HasSubstr(": NaN >= 0.99 failed"));
  const std::vector<EvaluationRecord> no_data = {
      fv_record(3s, "after", "steady_state", fv_evaluation("ratio", false, std::nullopt, ""))};
  EXPECT_EQ(find_first_violation(no_data, kFvT0)->value_text, "no data");
}

TEST(FirstViolationTest, RecoveryPollingAbortsAndPreflightAreNotViolations) {
  const std::vector<EvaluationRecord> records = {
      fv_record(1s, "preflight", "steady_state", fv_evaluation("pre", false, 0.1, "0.1")),
      fv_record(2s, "during", "abort", fv_evaluation("stop", false, 0.1, "0.1")),
      fv_record(3s, "recovery", "steady_state", fv_evaluation("rec", false, 0.1, "0.1")),
      fv_record(4s, "during", "steady_state", fv_evaluation("held", true, 1.0, "1")),
  };
  EXPECT_FALSE(find_first_violation(records, kFvT0).has_value());
}

TEST(FirstViolationTest, FirstInjectIsTheEarliestAppliedFault) {
  EXPECT_FALSE(first_inject_time({}).has_value());
  FaultRecord later, earlier;
  later.applied_at = kFvT0 + 9s;
  earlier.applied_at = kFvT0 + 2s;
  EXPECT_EQ(first_inject_time({later, earlier}), kFvT0 + 2s);
}

// A journal with two faults and one check failing at +5 s, then a second one.
class FirstViolationJournalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    experiment_.title = "stranded <client>";
    experiment_.steady_state.push_back({{"delivered", "ratio_of_delivered", Comparator::kGreaterEqual, 0.99}});
    experiment_.lab.probe_flags = {"--ping-interval", "2m"};
    experiment_.finding = Finding{"stuck 2 min", "ping_interval x max_pings_out", "--ping-interval 1s", "twin.toml"};
    clock_.advance(10s);
    FaultRecord fault;
    fault.fault_id = "f1";
    fault.applied_at = clock_.wall_now();
    journal_.fault_applied(fault);
    journal_.evaluation("during", "steady_state", fv_evaluation("delivered", true, 1.0, "1"));
    clock_.advance(5s);
    journal_.evaluation("during", "steady_state", fv_evaluation("delivered", false, 0.5, "0.5"));
    clock_.advance(2s);
    journal_.evaluation("after", "steady_state", fv_evaluation("delivered", false, 0.7, "0.7"));
  }
  nlohmann::json journal(const RunOutcome& outcome) {
    return journal_to_json(experiment_, RunIdentity{"exp-1", "exp-1-lease", 3s}, journal_, outcome,
                           {clock_.wall_now() - 20s, clock_.wall_now()});
  }
  Experiment experiment_;
  FakeClock clock_;
  RunJournal journal_{clock_};
};

TEST_F(FirstViolationJournalTest, JournalRecordsTheFirstViolationAndTheFinding) {
  RunOutcome outcome;
  outcome.verdict = Verdict::kViolated;
  const auto json = journal(outcome);
  const auto& first = json["verdict"]["first_violation"];
  EXPECT_EQ(first["name"], "delivered");
  EXPECT_EQ(first["phase"], "during");
  EXPECT_EQ(first["comparator"], ">=");
  EXPECT_EQ(first["threshold"], 0.99);
  EXPECT_EQ(first["value"], 0.5);
  EXPECT_EQ(first["seconds_after_inject"], 5.0);
  EXPECT_EQ(first["at"], format_rfc3339(clock_.wall_now() - 2s));
  EXPECT_THAT(first["summary"].get<std::string>(), HasSubstr("(+5.0 s after the first inject): 0.5 >= 0.99"));
  EXPECT_EQ(json["experiment"]["lab"]["probe_flags"], nlohmann::json::array({"--ping-interval", "2m"}));
  EXPECT_EQ(json["experiment"]["finding"]["remedy"], "--ping-interval 1s");
  EXPECT_EQ(json["experiment"]["finding"]["remedied_by"], "twin.toml");
}

TEST_F(FirstViolationJournalTest, WithoutTheTablesTheExperimentHasNoKeysAndAHeldRunNoViolation) {
  experiment_.lab = {};
  experiment_.finding.reset();
  Experiment held_experiment = experiment_;
  FakeClock clock;
  RunJournal held(clock);
  held.evaluation("during", "steady_state", fv_evaluation("delivered", true, 1.0, "1"));
  const auto json = journal_to_json(held_experiment, RunIdentity{}, held, RunOutcome{}, {clock.wall_now(), clock.wall_now()});
  EXPECT_FALSE(json["experiment"].contains("lab"));
  EXPECT_FALSE(json["experiment"].contains("finding"));
  EXPECT_TRUE(json["verdict"]["first_violation"].is_null());
}

TEST_F(FirstViolationJournalTest, JunitFailureMessagesOfAViolatedRunStartWithTheFirstViolation) {
  RunOutcome outcome;
  outcome.verdict = Verdict::kViolated;
  const std::string junit = render_junit(experiment_, journal_, outcome, 1);
  const std::string lead = "<failure message=\"first violation: delivered [during] at " +
                           format_rfc3339(clock_.wall_now() - 2s) +
                           " (+5.0 s after the first inject): 0.5 &gt;= 0.99 failed -- this check: ";
  EXPECT_THAT(junit, HasSubstr("name=\"delivered [during]\">" + lead + "1 of 2 evaluations failed"));
  EXPECT_THAT(junit, HasSubstr("name=\"delivered [after]\">" + lead + "1 of 1 evaluations failed"));
  EXPECT_THAT(junit, HasSubstr("<property name=\"first_violation\" value=\"first violation: delivered"));
}

TEST_F(FirstViolationJournalTest, JunitOfAnAbortedRunIsUnchanged) {
  RunOutcome outcome;
  outcome.verdict = Verdict::kAborted;
  const std::string junit = render_junit(experiment_, journal_, outcome, 1);
  EXPECT_THAT(junit, Not(HasSubstr("first violation")));
  EXPECT_THAT(junit, HasSubstr("<failure message=\"1 of 2 evaluations failed"));
}

}  // namespace
}  // namespace chaos::orchestrator
