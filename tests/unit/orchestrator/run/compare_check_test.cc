// [[compare]] evaluation: both sides asked, the difference judged against
// the tolerance, no data never holding, and a failed compare failing the
// run like a steady-state check; journal.json and report.html keep both sides.
#include "orchestrator/run/compare_check.h"
#include "orchestrator/run/compare_timing.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <sstream>

#include "orchestrator/report/html_report.h"
#include "orchestrator/report/report_data.h"
#include "orchestrator/report/timeline_collector.h"
#include "orchestrator/run/experiment_run.h"
#include "orchestrator/run/journal_json.h"
#include "orchestrator/run/junit_writer.h"
#include "orchestrator/run/plan_printer.h"
#include "orchestrator/run/progress_printer.h"
#include "tests/unit/orchestrator/run_fakes.h"

namespace chaos::orchestrator {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;
using testing::FakeAgentFactory;
using testing::FakeFleet;
using testing::FakePrometheus;
using testing::JumpingClock;

CompareCheck p99_check() {
  CompareCheck check;
  check.name = "p99";
  check.query = R"(p99{node=~"$nodes"})";
  check.tolerance = 0.25;
  check.faulted_nodes = {"a"};
  check.control_nodes = {"c"};
  check.faulted_query = R"(p99{node=~"a"})";
  check.control_query = R"(p99{node=~"c"})";
  return check;
}

StatusOr<QueryResult> answer(std::vector<std::string> values) {
  QueryResult result;
  for (const auto& text : values) {
    Series series;
    series.points.push_back({1, text, parse_prometheus_float(text)});
    result.series.push_back(series);
  }
  return result;
}

TEST(CompareEvaluation, RelativeDifferenceBelowTheToleranceHolds) {
  const CompareOutcome held = evaluate_compare(p99_check(), answer({"0.11"}), answer({"0.1"}));
  EXPECT_TRUE(held.evaluation.holds);
  EXPECT_EQ(held.evaluation.value_text, "faulted 0.11 vs control 0.1 differ by 10% < 25%");
  EXPECT_EQ(held.sample.faulted, 0.11);
  EXPECT_EQ(held.sample.control, 0.1);
  const CompareOutcome failed = evaluate_compare(p99_check(), answer({"0.31"}), answer({"0.12"}));
  EXPECT_FALSE(failed.evaluation.holds);
  EXPECT_EQ(failed.evaluation.value_text, "faulted 0.31 vs control 0.12 differ by 158.3% >= 25%");
  // A control of zero: equal holds, anything else is infinitely different.
  EXPECT_TRUE(evaluate_compare(p99_check(), answer({"0"}), answer({"0"})).evaluation.holds);
  EXPECT_FALSE(evaluate_compare(p99_check(), answer({"1"}), answer({"0"})).evaluation.holds);
}

TEST(CompareEvaluation, AbsoluteDifferenceUsesTheQuerysUnit) {
  CompareCheck check = p99_check();
  check.relative = false;
  check.tolerance = 5;
  EXPECT_TRUE(evaluate_compare(check, answer({"102"}), answer({"100"})).evaluation.holds);
  const CompareOutcome failed = evaluate_compare(check, answer({"95"}), answer({"100"}));
  EXPECT_FALSE(failed.evaluation.holds);
  EXPECT_EQ(failed.evaluation.value_text, "faulted 95 vs control 100 differ by 5 >= 5");
}

TEST(CompareEvaluation, NoDataNaNSeveralSeriesOrAFailedQueryNeverHold) {
  const auto check = p99_check();
  EXPECT_FALSE(evaluate_compare(check, answer({}), answer({"1"})).evaluation.holds);
  EXPECT_FALSE(evaluate_compare(check, answer({"1"}), answer({"NaN"})).evaluation.holds);
  const CompareOutcome many = evaluate_compare(check, answer({"1", "2"}), answer({"1"}));
  EXPECT_FALSE(many.evaluation.holds);
  EXPECT_THAT(many.evaluation.value_text, HasSubstr("not comparable: the faulted query returned 2 series"));
  const CompareOutcome failed = evaluate_compare(check, answer({"1"}), unavailable("prometheus down"));
  EXPECT_FALSE(failed.evaluation.holds);
  EXPECT_EQ(failed.evaluation.error, "control query failed: prometheus down");
}

class CompareRunTest : public ::testing::Test {
 protected:
  CompareRunTest() {
    experiment_.title = "Kill a";
    experiment_.settings.lease_ttl = 3s;
    experiment_.settings.during_interval = 2s;
    MethodStep kill;
    kill.name = "kill";
    kill.kind = "process.kill";
    kill.duration = 6s;
    kill.spec.mutable_process_kill()->mutable_target()->set_name("sleep");
    kill.targets = {{"10.0.0.1:9700", "a", {}}};
    experiment_.method = {kill};
    experiment_.agents = {kill.targets[0], {"10.0.0.3:9700", "c", {}}};
    experiment_.compare = {p99_check()};
  }
  RunOutcome run(const std::string& faulted_value) {
    return run_over_time([=](double) { return faulted_value; });
  }
  // The faulted side's p99 and the ratio SLO as functions of seconds since
  // the start; the control side stays at 0.1.
  RunOutcome run_over_time(std::function<std::string(double)> faulted,
                           std::function<std::string(double)> ratio = {}) {
    prometheus_ = std::make_unique<FakePrometheus>(clock_, [=](const std::string& query, double t) {
      if (query == "ratio") return std::optional<std::string>(ratio ? ratio(t) : "1");
      return std::optional<std::string>(query == R"(p99{node=~"a"})" ? faulted(t) : "0.1");
    });
    RunContext context{experiment_, *prometheus_, factory_, clock_, journal_, interrupted_,
                       RunIdentity{"exp-1", "exp-1-lease", 3s}};
    return ExperimentRun(context).run();
  }

  Experiment experiment_;
  JumpingClock clock_;
  FakeFleet fleet_;
  FakeAgentFactory factory_{fleet_};
  RunJournal journal_{clock_};
  std::atomic<bool> interrupted_{false};
  std::unique_ptr<FakePrometheus> prometheus_;
};

TEST_F(CompareRunTest, FaultedAndControlWithinToleranceHold) {
  const RunOutcome outcome = run("0.11");
  EXPECT_EQ(outcome.verdict, Verdict::kHeld) << outcome.reason;
  size_t compares = 0;
  for (const auto& record : journal_.evaluations()) {
    if (record.kind != "compare") continue;
    ++compares;
    EXPECT_EQ(record.phase, "during");
    ASSERT_TRUE(record.compare.has_value());
    EXPECT_EQ(record.compare->control, 0.1);
  }
  EXPECT_GE(compares, 2u);
}

TEST_F(CompareRunTest, ACompareThatDiffersFailsTheHypothesisNamingBothValues) {
  experiment_.compare[0].in_after = true;
  const RunOutcome outcome = run("0.31");
  EXPECT_EQ(outcome.verdict, Verdict::kViolated);
  EXPECT_THAT(outcome.failed_checks,
              ::testing::ElementsAre("p99 [after]: faulted 0.31 vs control 0.1 differ by 210% >= 25%",
                                     "p99 [during]: faulted 0.31 vs control 0.1 differ by 210% >= 25%"));
  const std::string junit = render_junit(experiment_, journal_, outcome, 1);
  EXPECT_THAT(junit, HasSubstr("name=\"p99 [during]\"><failure message=\""));
  EXPECT_THAT(junit, HasSubstr("first: faulted 0.31 vs control 0.1 differ by 210% &gt;= 25%"));
}

// Issue 17: a compare failing while the faults are live is a violated
// sample like a during-check's (it fails the hypothesis the same way), so
// the time to detect counts it, dated by the range data of both sides.
TEST_F(CompareRunTest, ACompareViolatedWhileFaultsAreLiveIsTheDetection) {
  const RunOutcome outcome = run_over_time([](double t) { return t >= 2.5 ? "0.31" : "0.11"; });
  EXPECT_EQ(outcome.verdict, Verdict::kViolated);
  ASSERT_TRUE(outcome.time_to_detect.has_value());
  EXPECT_EQ(*outcome.time_to_detect, 3s);  // the first 1 s step at or after 2.5 s
  EXPECT_EQ(outcome.detected_by, "p99");
  EXPECT_EQ(outcome.detected_by_kind, "compare");
  EXPECT_TRUE(outcome.detection_from_range_data);
  const auto journal = journal_to_json(experiment_, RunIdentity{"exp-1", "exp-1-lease", 3s}, journal_, outcome,
                                       {clock_.wall_now(), clock_.wall_now()});
  EXPECT_EQ(journal["verdict"]["time_to_detect_seconds"], 3.0);
  EXPECT_EQ(journal["verdict"]["detected_by"], (nlohmann::json{{"name", "p99"}, {"kind", "compare"}}));
  bool named = false;
  for (const auto& event : journal_.events()) {
    named |= event.type == "detect" && event.message.find("compare 'p99' violated") != std::string::npos;
  }
  EXPECT_TRUE(named);
}

TEST_F(CompareRunTest, TimeToDetectIsTheCompareWhenItBrokeBeforeTheSlo) {
  experiment_.steady_state.push_back({{"ratio", "ratio", Comparator::kGreaterEqual, 0.99}});
  const RunOutcome outcome = run_over_time([](double t) { return t >= 2 ? "0.31" : "0.11"; },
                                           [](double t) { return t >= 4 ? "0.5" : "1"; });
  EXPECT_EQ(outcome.time_to_detect, 2s);
  EXPECT_EQ(outcome.detected_by, "p99");
  EXPECT_EQ(outcome.detected_by_kind, "compare");
}

TEST_F(CompareRunTest, TimeToDetectIsTheSloWhenItBrokeBeforeTheCompare) {
  experiment_.steady_state.push_back({{"ratio", "ratio", Comparator::kGreaterEqual, 0.99}});
  const RunOutcome slo_first = run_over_time([](double t) { return t >= 4 ? "0.31" : "0.11"; },
                                             [](double t) { return t >= 1 ? "0.5" : "1"; });
  EXPECT_EQ(slo_first.time_to_detect, 1s);
  EXPECT_EQ(slo_first.detected_by, "ratio");
  EXPECT_EQ(slo_first.detected_by_kind, "steady_state");
}

TEST_F(CompareRunTest, ATieBetweenADuringCheckAndACompareGoesToTheDuringCheck) {
  experiment_.steady_state.push_back({{"ratio", "ratio", Comparator::kGreaterEqual, 0.99}});
  const RunOutcome outcome = run_over_time([](double t) { return t >= 2 ? "0.31" : "0.11"; },
                                           [](double t) { return t >= 2 ? "0.5" : "1"; });
  EXPECT_EQ(outcome.time_to_detect, 2s);
  EXPECT_EQ(outcome.detected_by, "ratio");
  EXPECT_EQ(outcome.detected_by_kind, "steady_state");
}

bool compare_journal_has(const RunJournal& journal, const std::string& type, const std::string& text) {
  for (const auto& event : journal.events()) {
    if (event.type == type && event.message.find(text) != std::string::npos) return true;
  }
  return false;
}

// A compare whose range data cannot be read is named in the journal; the
// during-checks' range data still dates the detection.
TEST_F(CompareRunTest, AFailedCompareRangeQueryKeepsTheDuringChecksDetection) {
  experiment_.steady_state.push_back({{"ratio", "ratio", Comparator::kGreaterEqual, 0.99}});
  prometheus_ = std::make_unique<FakePrometheus>(clock_, [](const std::string& query, double t) {
    if (query == "ratio") return std::optional<std::string>(t >= 3 ? "0.5" : "1");
    return std::optional<std::string>(query == R"(p99{node=~"a"})" && t >= 1 ? "0.31" : "0.1");
  });
  prometheus_->range_fails_for = {R"(p99{node=~"c"})"};
  RunContext context{experiment_, *prometheus_, factory_, clock_, journal_, interrupted_,
                     RunIdentity{"exp-1", "exp-1-lease", 3s}};
  const RunOutcome outcome = ExperimentRun(context).run();
  EXPECT_TRUE(outcome.detection_from_range_data);
  EXPECT_EQ(outcome.time_to_detect, 3s);
  EXPECT_EQ(outcome.detected_by, "ratio");
  EXPECT_EQ(outcome.detected_by_kind, "steady_state");
  EXPECT_TRUE(compare_journal_has(journal_, "error",
                                  R"(time to detect: range query of compare 'p99' (control side: p99{node=~"c"}) failed)"));
}

// A gap that was there before the fault is not detected by the fault: the
// compare is judged one step before the injection too.
TEST_F(CompareRunTest, ACompareViolatedBeforeTheFaultGivesNoTimeToDetect) {
  const RunOutcome outcome = run("0.31");
  EXPECT_EQ(outcome.verdict, Verdict::kViolated);
  EXPECT_FALSE(outcome.time_to_detect.has_value());
  EXPECT_TRUE(outcome.detected_by.empty());
  EXPECT_TRUE(compare_journal_has(journal_, "detect", "compare 'p99' violated before the fault"));
}

TEST_F(CompareRunTest, ACompareThatHeldBeforeTheFaultAndBrokeAtTheInjectionDetectsAtZero) {
  const RunOutcome outcome = run_over_time([](double t) { return t >= 0 ? "0.31" : "0.11"; });
  EXPECT_EQ(outcome.time_to_detect, 0s);
  EXPECT_EQ(outcome.detected_by, "p99");
  EXPECT_FALSE(compare_journal_has(journal_, "detect", "violated before the fault"));
}

TEST_F(CompareRunTest, ACompareThatHeldWhileFaultsWereLiveDetectsNothing) {
  const RunOutcome outcome = run_over_time([](double t) { return t >= 7 ? "0.31" : "0.11"; });
  EXPECT_TRUE(outcome.detection_from_range_data);
  EXPECT_FALSE(outcome.time_to_detect.has_value());
  EXPECT_TRUE(outcome.detected_by.empty());
}

TEST_F(CompareRunTest, AControlWithoutDataStopsTheRunBeforeAnyInject) {
  prometheus_ = std::make_unique<FakePrometheus>(clock_, [](const std::string& query, double) {
    return query == R"(p99{node=~"c"})" ? std::nullopt : std::optional<std::string>("0.1");
  });
  RunContext context{experiment_, *prometheus_, factory_, clock_, journal_, interrupted_,
                     RunIdentity{"exp-1", "exp-1-lease", 3s}};
  const RunOutcome outcome = ExperimentRun(context).run();
  EXPECT_EQ(outcome.verdict, Verdict::kError);
  EXPECT_THAT(outcome.reason, HasSubstr(R"(compare 'p99': control query 'p99{node=~"c"}' returns no data)"));
  EXPECT_EQ(fleet_.count("Inject"), 0u);
}

TEST_F(CompareRunTest, JournalKeepsBothSidesAndTheReportChartsThemOnOneChart) {
  run("0.31");
  const auto journal = journal_to_json(experiment_, RunIdentity{"exp-1", "exp-1-lease", 3s}, journal_,
                                       RunOutcome{}, {clock_.wall_now() - 10s, clock_.wall_now()});
  EXPECT_EQ(journal["experiment"]["compare"][0]["control_nodes"], nlohmann::json::array({"c"}));
  bool found = false;
  for (const auto& item : journal["evaluations"]) {
    if (item["kind"] != "compare") continue;
    found = true;
    EXPECT_EQ(item["faulted"]["value"], 0.31);
    EXPECT_EQ(item["control"]["query"], R"(p99{node=~"c"})");
    EXPECT_EQ(item["pass"], false);
  }
  EXPECT_TRUE(found);
  auto report = report::parse_report(journal);
  ASSERT_TRUE(report.ok()) << report.status().message();
  ASSERT_EQ(report->charts.size(), 1u);
  const report::ReportChart& chart = report->charts[0];
  EXPECT_EQ(chart.title, "compare: p99 (differ by < 25%)");
  ASSERT_EQ(chart.series.size(), 2u);
  EXPECT_EQ(chart.series[0].label, "faulted: a");
  EXPECT_EQ(chart.series[1].label, "control: c");
  EXPECT_EQ(chart.series[1].points.at(0).value, 0.1);
  const std::string html = report::render_report_html(*report);
  EXPECT_THAT(html, HasSubstr("compare: p99 (differ by &lt; 25%)"));
  EXPECT_THAT(html, HasSubstr("data-label=\"faulted: a\""));
  EXPECT_THAT(html, HasSubstr("data-label=\"control: c\""));
}

TEST_F(CompareRunTest, RangeDataFromTheTimelineIsDrawnForBothSides) {
  run("0.11");
  const auto collected = report::collect_timeline(experiment_, *prometheus_, {clock_.wall_now() - 10s, clock_.wall_now()});
  ASSERT_EQ(collected["queries"].size(), 2u);
  EXPECT_EQ(collected["queries"][0]["query"], R"(p99{node=~"a"})");
  EXPECT_EQ(collected["queries"][1]["query"], R"(p99{node=~"c"})");
  auto journal = journal_to_json(experiment_, RunIdentity{"exp-1", "exp-1-lease", 3s}, journal_, RunOutcome{},
                                 {clock_.wall_now() - 10s, clock_.wall_now()});
  journal["timeline"] = {{"queries", {{{"query", R"(p99{node=~"a"})"}, {"error", ""},
                                       {"series", {{{"labels", nlohmann::json::object()},
                                                    {"points", {{1.0, "0.2"}, {2.0, "0.3"}}}}}}},
                                      {{"query", R"(p99{node=~"c"})"}, {"error", ""},
                                       {"series", {{{"labels", nlohmann::json::object()},
                                                    {"points", {{1.0, "0.1"}}}}}}}}}};
  auto report = report::parse_report(journal);
  ASSERT_TRUE(report.ok()) << report.status().message();
  const report::ReportChart& chart = report->charts.at(0);
  EXPECT_TRUE(chart.from_prometheus_range);
  ASSERT_EQ(chart.series.size(), 2u);
  EXPECT_EQ(chart.series[0].points.size(), 2u);
  EXPECT_EQ(chart.series[1].label, "control: c");
}

// One side's values, one a second from t = 1000 s ("" = no sample).
Series compare_per_second(const std::vector<std::string>& values, std::map<std::string, std::string> labels = {}) {
  Series series;
  series.labels = std::move(labels);
  for (size_t i = 0; i < values.size(); ++i) {
    if (!values[i].empty()) series.points.push_back({1000.0 + static_cast<double>(i), values[i], parse_prometheus_float(values[i])});
  }
  return series;
}

TEST(CompareTiming, EachStepIsJudgedAsAPollJudgesTwoInstantAnswers) {
  const RangeGrid grid = make_range_grid(WallTime(1000s), WallTime(1005s), 1000ms);
  CompareRange range{p99_check(), {}, {}};
  range.faulted.series = {compare_per_second({"0.11", "0.11", "0.31", "0.11", "0.11", "0.11"}, {{"node", "a"}}),
                          compare_per_second({"", "", "", "0.1", "", ""}, {{"node", "b"}})};
  range.control.series = {compare_per_second({"0.1", "0.1", "0.1", "0.1", "", "0.1"})};
  // 0.31 vs 0.1 differs; two faulted series at 3 s are not one number; no
  // control sample at 4 s is no data.
  EXPECT_EQ(compare_holds_on_grid(range, grid), (std::vector<bool>{true, true, false, false, false, true}));
  const GridFinding found = first_violated_compare_instant({range}, grid);
  EXPECT_EQ(found.index, 2u);
  EXPECT_EQ(found.check, "p99");
  range.faulted.series.resize(1);
  range.faulted.series[0] = compare_per_second({"0.11", "0.11", "0.11", "0.11", "0.11", "0.11"});
  range.control.series = {compare_per_second({"0.1", "0.1", "0.1", "0.1", "0.1", "0.1"})};
  EXPECT_FALSE(first_violated_compare_instant({range}, grid).index.has_value());
}

TEST(CompareTiming, TwoSamplesOfOneSeriesAtOneInstantAreOneSampleTheLater) {
  const RangeGrid grid = make_range_grid(WallTime(1000s), WallTime(1001s), 1000ms);
  CompareRange range{p99_check(), {}, {}};
  // 1000.9 s rounds to the instant at 1001 s, as 1001 s does: the later wins.
  Series faulted = compare_per_second({"0.11"});
  faulted.points.push_back({1000.9, "0.31", 0.31});
  faulted.points.push_back({1001.0, "0.11", 0.11});
  range.faulted.series = {faulted};
  range.control.series = {compare_per_second({"0.1", "0.1"})};
  EXPECT_EQ(compare_holds_on_grid(range, grid), (std::vector<bool>{true, true}));
  range.faulted.series[0].points.back() = {1001.0, "0.31", 0.31};
  range.faulted.series[0].points[1] = {1000.9, "0.11", 0.11};
  EXPECT_EQ(compare_holds_on_grid(range, grid), (std::vector<bool>{true, false}));
}

TEST(CompareTiming, TheInstantBeforeTheFaultSetsACompareAsideAndIndicesAreOnTheDetectionGrid) {
  const RangeGrid grid = make_range_grid(WallTime(1001s), WallTime(1004s), 1000ms);
  const RangeGrid lead = compare_grid_with_instant_before(grid);
  EXPECT_EQ(lead.start, WallTime(1000s));
  EXPECT_EQ(lead.count, grid.count + 1);
  CompareRange before{p99_check(), {}, {}};
  before.check.name = "before";
  before.faulted.series = {compare_per_second({"0.31", "0.31", "0.31", "0.31", "0.31"})};
  before.control.series = {compare_per_second({"0.1", "0.1", "0.1", "0.1", "0.1"})};
  CompareRange later{p99_check(), {}, {}};
  later.faulted.series = {compare_per_second({"0.11", "0.11", "0.11", "0.31", "0.11"})};
  later.control.series = {compare_per_second({"0.1", "0.1", "0.1", "0.1", "0.1"})};
  const CompareDetection found = first_violated_compare_after_fault({before, later}, lead);
  EXPECT_EQ(found.violated_before, std::vector<std::string>{"before"});
  EXPECT_EQ(found.finding.index, 2u);  // 1003 s, two steps after the injection at 1001 s
  EXPECT_EQ(found.finding.check, "p99");
}

TEST(ComparePlan, DryRunListsTheResolvedNodeSets) {
  Experiment experiment;
  experiment.compare = {p99_check()};
  std::ostringstream out;
  print_plan(out, experiment);
  EXPECT_THAT(out.str(), HasSubstr("compare (faulted vs control):\n  - p99: p99{node=~\"$nodes\"} |f - c| / |c| < "
                                   "0.25 [during]\n      faulted: a\n      control: c\n"));
}

}  // namespace
}  // namespace chaos::orchestrator
