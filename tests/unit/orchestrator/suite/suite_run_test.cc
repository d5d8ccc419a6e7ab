#include "orchestrator/suite/suite_run.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <sstream>

#include "orchestrator/suite/suite_index.h"
#include "orchestrator/suite/suite_junit.h"
#include "tests/unit/orchestrator/run_fakes.h"

namespace chaos::orchestrator {
namespace {

using namespace std::chrono_literals;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::FakePrometheus;
using testing::JumpingClock;

// Answers each run from a script (title -> verdict) and takes a minute.
class ScriptedRunner final : public ExperimentRunnerInterface {
 public:
  ScriptedRunner(JumpingClock& clock, std::atomic<bool>& interrupted) : clock_(clock), interrupted_(interrupted) {}
  RunRecord run(const Experiment& experiment, const std::string& report_dir) override {
    ran.push_back(experiment.title);
    dirs.push_back(report_dir);
    RunRecord record{experiment, {experiment.title + "-id", "", 1s}, {}, {}, report_dir, {}, {}};
    record.times.started = clock_.wall_now();
    clock_.sleep_until(clock_.steady_now() + 60s);
    record.times.finished = clock_.wall_now();
    record.outcome.verdict = verdicts.count(experiment.title) ? verdicts[experiment.title] : Verdict::kHeld;
    record.outcome.reason = "scripted";
    if (experiment.title == interrupt_during) {
      interrupted_ = true;
      record.outcome.verdict = Verdict::kAborted;
    }
    record.junit_testsuite = "  <testsuite name=\"" + experiment.title + "\"></testsuite>\n";
    return record;
  }

  std::map<std::string, Verdict> verdicts;
  std::string interrupt_during;
  std::vector<std::string> ran;
  std::vector<std::string> dirs;

 private:
  JumpingClock& clock_;
  std::atomic<bool>& interrupted_;
};

// The gate's Prometheus: the one FakePrometheus of the test.
class SharedPrometheus final : public PrometheusClient {
 public:
  explicit SharedPrometheus(PrometheusClient& inner) : inner_(inner) {}
  StatusOr<QueryResult> instant_query(const std::string& query) override { return inner_.instant_query(query); }
  StatusOr<QueryResult> range_query(const std::string& query, WallTime start, WallTime end,
                                    std::chrono::milliseconds step) override {
    return inner_.range_query(query, start, end, step);
  }
  Status check_ready() override { return inner_.check_ready(); }

 private:
  PrometheusClient& inner_;
};

// An experiment whose one before-check is the query "<title>-ready" >= 1.
SuiteItem item(const std::string& title) {
  Experiment experiment;
  experiment.title = title;
  experiment.steady_state.push_back({{"ready", title + "-ready", Comparator::kGreaterEqual, 1}});
  return {experiment, 30s};
}

class SuiteRunTest : public ::testing::Test {
 protected:
  SuiteOutcome run(const std::vector<SuiteItem>& items, bool fail_fast = false) {
    SettlePrometheusFactory factory = [this](const Experiment&) -> StatusOr<std::unique_ptr<PrometheusClient>> {
      return std::unique_ptr<PrometheusClient>(std::make_unique<SharedPrometheus>(prometheus_));
    };
    SuiteContext context{clock_, interrupted_, runner_, factory, out_, "reports"};
    return SuiteRun(context, "game day", 5s, fail_fast).run(items);
  }
  static std::vector<SuiteRunState> states(const SuiteOutcome& outcome) {
    std::vector<SuiteRunState> result;
    for (const auto& run : outcome.runs) result.push_back(run.state);
    return result;
  }

  JumpingClock clock_;
  std::atomic<bool> interrupted_{false};
  ScriptedRunner runner_{clock_, interrupted_};
  // "<title>-ready" is 1 unless the test says when it becomes 1 (or never).
  std::map<std::string, double> ready_from_;  // query -> seconds since the start
  FakePrometheus prometheus_{clock_, [this](const std::string& query, double seconds) {
                               auto from = ready_from_.find(query);
                               if (from == ready_from_.end() || seconds >= from->second) {
                                 return std::optional<std::string>("1");
                               }
                               return std::optional<std::string>("0");
                             }};
  std::ostringstream out_;
};

TEST_F(SuiteRunTest, RunsEveryExperimentInOrderAndTheWorstVerdictWins) {
  runner_.verdicts = {{"b", Verdict::kViolated}};
  const SuiteOutcome outcome = run({item("a"), item("b"), item("c")});
  EXPECT_THAT(runner_.ran, ElementsAre("a", "b", "c"));
  EXPECT_EQ(outcome.worst, Verdict::kViolated);
  EXPECT_EQ(exit_code(outcome.worst), 1);
  EXPECT_THAT(runner_.dirs, ElementsAre("reports/01-a", "reports/02-b", "reports/03-c"));
  EXPECT_THAT(out_.str(), HasSubstr("experiment 2/3: b\n"));
  std::ostringstream summary;
  print_suite_summary(summary, outcome);
  EXPECT_THAT(summary.str(), HasSubstr("game day: VIOLATED (exit 1)"));
  EXPECT_THAT(summary.str(), HasSubstr("2/3 violated: b (1 min"));
}

TEST_F(SuiteRunTest, ErrorOutranksAbortedAndViolated) {
  runner_.verdicts = {{"a", Verdict::kViolated}, {"b", Verdict::kError}, {"c", Verdict::kAborted}};
  EXPECT_EQ(run({item("a"), item("b"), item("c")}).worst, Verdict::kError);
}

TEST_F(SuiteRunTest, FailFastStopsAfterTheFirstRunThatDidNotHold) {
  runner_.verdicts = {{"b", Verdict::kAborted}};
  const SuiteOutcome outcome = run({item("a"), item("b"), item("c")}, true);
  EXPECT_THAT(runner_.ran, ElementsAre("a", "b"));
  EXPECT_THAT(states(outcome), ElementsAre(SuiteRunState::kRan, SuiteRunState::kRan, SuiteRunState::kNotRun));
  EXPECT_THAT(outcome.runs[2].reason, HasSubstr("--fail-fast"));
  EXPECT_FALSE(outcome.runs[2].verdict().has_value());
  EXPECT_EQ(outcome.worst, Verdict::kAborted);
}

// The first experiment checks its own steady state; the next ones wait for
// theirs to hold again after the previous run.
TEST_F(SuiteRunTest, TheNextExperimentWaitsUntilItsBeforeChecksHold) {
  ready_from_ = {{"a-ready", 1e9}, {"b-ready", 60 + 20}};  // b: 20 s after a's run ends
  const SuiteOutcome outcome = run({item("a"), item("b")});
  EXPECT_THAT(runner_.ran, ElementsAre("a", "b"));
  EXPECT_EQ(outcome.runs[1].settle_waited, 20s);
  EXPECT_EQ(outcome.worst, Verdict::kHeld);
  EXPECT_THAT(out_.str(), HasSubstr("settled after 20.0 s"));
}

TEST_F(SuiteRunTest, AnExperimentThatNeverSettlesIsNotRunCountsAsAnErrorAndTheSuiteGoesOn) {
  ready_from_ = {{"b-ready", 1e9}};
  const SuiteOutcome outcome = run({item("a"), item("b"), item("c")});
  EXPECT_THAT(runner_.ran, ElementsAre("a", "c"));
  EXPECT_THAT(states(outcome), ElementsAre(SuiteRunState::kRan, SuiteRunState::kNotSettled, SuiteRunState::kRan));
  EXPECT_EQ(outcome.runs[1].settle_waited, 30s);
  EXPECT_THAT(outcome.runs[1].reason, HasSubstr("did not hold within 30s"));
  EXPECT_THAT(outcome.runs[1].reason, HasSubstr("ready: 0 >= 1 failed"));
  EXPECT_EQ(outcome.worst, Verdict::kError);
}

TEST_F(SuiteRunTest, CtrlCEndsTheSuiteAfterTheCurrentRunAndTheRestAreNotRun) {
  runner_.interrupt_during = "a";
  const SuiteOutcome outcome = run({item("a"), item("b"), item("c")});
  EXPECT_THAT(runner_.ran, ElementsAre("a"));
  EXPECT_THAT(states(outcome), ElementsAre(SuiteRunState::kRan, SuiteRunState::kNotRun, SuiteRunState::kNotRun));
  EXPECT_EQ(outcome.runs[2].reason, "interrupted");
  EXPECT_TRUE(outcome.interrupted);
  EXPECT_EQ(outcome.worst, Verdict::kAborted);
}

TEST_F(SuiteRunTest, JunitHasOneTestsuitePerExperimentAndTheIndexLinksEachReport) {
  runner_.verdicts = {{"a", Verdict::kViolated}};
  ready_from_ = {{"b-ready", 1e9}};
  runner_.verdicts["c"] = Verdict::kHeld;
  const SuiteOutcome outcome = run({item("a"), item("b"), item("c"), item("d")}, false);
  const std::string junit = render_suite_junit(outcome);
  EXPECT_THAT(junit, HasSubstr("<testsuites name=\"game day\">\n  <testsuite name=\"a\">"));
  EXPECT_THAT(junit, HasSubstr("<testsuite name=\"b\" tests=\"1\" failures=\"0\" errors=\"1\""));
  EXPECT_THAT(junit, HasSubstr("<error message=\"the steady state did not hold within 30s"));
  EXPECT_THAT(junit, HasSubstr("<testsuite name=\"d\">"));
  const std::string index = render_suite_index(outcome);
  EXPECT_THAT(index, HasSubstr("<a href=\"01-a/report.html\">a</a>"));
  EXPECT_THAT(index, HasSubstr("<a href=\"03-c/report.html\">c</a>"));
  EXPECT_THAT(index, Not(HasSubstr("02-b/report.html")));
  EXPECT_THAT(index, HasSubstr("id=\"suite-verdict\" class=\"verdict verdict-error\""));
  EXPECT_THAT(index, HasSubstr("1 min"));  // each scripted run's duration
}

TEST(SuiteRunDir, NumbersAndSlugsTheTitle) {
  EXPECT_EQ(suite_run_dir(0, "Kill the stream leader!"), "01-kill-the-stream-leader");
  EXPECT_EQ(suite_run_dir(11, "???"), "12-experiment");
}

}  // namespace
}  // namespace chaos::orchestrator
