// journal.json -> Report: old journals without a timeline, the timeline,
// errors that name the input, and the end-of-run range queries.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "orchestrator/report/report_data.h"
#include "orchestrator/report/report_files.h"
#include "orchestrator/report/timeline_collector.h"
#include "tests/support/temp_dir.h"

namespace chaos::orchestrator::report {
namespace {

using ::testing::HasSubstr;
using nlohmann::json;
using test_support::TempDir;

json minimal_journal() {
  return json::parse(R"({
    "schema": "chaos.journal/v1",
    "experiment": {"title": "t", "steady_state": [
        {"name": "ratio", "query": "q1", "comparator": ">=", "threshold": 0.99, "phases": ["before", "during"]},
        {"name": "ratio strict", "query": "q1", "comparator": ">=", "threshold": 0.999, "phases": ["after"]},
        {"name": "lost", "query": "q2", "comparator": "<=", "threshold": 0, "phases": ["after"]}],
      "abort": [{"name": "stopped", "query": "q3", "comparator": "<", "threshold": 1}]},
    "run": {"experiment_id": "t-1", "started_at": "2026-11-23T10:00:00.000Z",
            "finished_at": "2026-11-23T10:01:00.500Z"},
    "events": [{"at": "2026-11-23T10:00:05.000Z", "type": "phase", "message": "method"}],
    "evaluations": [
      {"at": "2026-11-23T10:00:10.000Z", "phase": "during", "kind": "steady_state", "name": "ratio",
       "query": "q1", "has_data": true, "value": 0.5, "value_text": "0.5", "pass": false},
      {"at": "2026-11-23T10:00:12.000Z", "phase": "during", "kind": "steady_state", "name": "ratio",
       "query": "q1", "has_data": true, "value": null, "value_text": "NaN", "pass": false}],
    "faults": [{"agent": "a:1", "node": "n1", "fault_id": "f-1", "kind": "network.delay",
                "applied_at": "2026-11-23T10:00:05.000Z", "expires_at": "2026-11-23T10:00:35.000Z",
                "reverted_at": null}],
    "verdict": {"result": "violated", "exit_code": 1, "reason": "r", "time_to_recovery_seconds": 2.5}
  })");
}

TEST(ParseRfc3339, ReadsMillisecondsAndRejectsGarbage) {
  EXPECT_DOUBLE_EQ(*parse_rfc3339("1970-01-01T00:01:00.250Z"), 60.25);
  EXPECT_DOUBLE_EQ(*parse_rfc3339("2026-11-23T10:00:00Z"), 1795428000);
  EXPECT_FALSE(parse_rfc3339("2026-11-23 10:00:00").has_value());
  EXPECT_FALSE(parse_rfc3339("2026-11-23T10:00:00.5+01:00").has_value());
}

TEST(ParseReport, OneChartPerDistinctQueryWithEveryThreshold) {
  auto report = parse_report(minimal_journal());
  ASSERT_TRUE(report.ok()) << report.status().message();
  ASSERT_EQ(report->charts.size(), 3u);
  EXPECT_EQ(report->charts[0].query, "q1");
  EXPECT_EQ(report->charts[0].thresholds.size(), 2u);
  EXPECT_EQ(report->charts[2].thresholds[0].kind, "abort");
  EXPECT_DOUBLE_EQ(report->finished_at - report->started_at, 60.5);
  EXPECT_EQ(report->verdict.time_to_recovery_seconds, 2.5);
  ASSERT_EQ(report->faults.size(), 1u);
  EXPECT_FALSE(report->faults[0].reverted_at.has_value());
  EXPECT_TRUE(report->faults[0].expires_at.has_value());
}

TEST(ParseReport, ReadsTheRangeDataFigures) {
  json journal = minimal_journal();
  journal["verdict"]["time_to_detect_seconds"] = 4.0;
  journal["verdict"]["detected_at"] = "2026-11-23T10:00:09.000Z";
  journal["verdict"]["recovery_resolution_seconds"] = 1.0;
  journal["verdict"]["recovery_source"] = "prometheus_range";
  auto report = parse_report(journal);
  ASSERT_TRUE(report.ok()) << report.status().message();
  EXPECT_EQ(report->verdict.time_to_detect_seconds, 4.0);
  EXPECT_EQ(report->verdict.detected_at, 1795428009.0);
  EXPECT_EQ(report->verdict.recovery_resolution_seconds, 1.0);
  EXPECT_EQ(report->verdict.recovery_source, "prometheus_range");
  EXPECT_FALSE(parse_report(minimal_journal())->verdict.time_to_detect_seconds.has_value());
}

TEST(ParseReport, JournalWithoutTimelineChartsItsEvaluations) {
  auto report = parse_report(minimal_journal());
  ASSERT_TRUE(report.ok());
  const ReportChart& chart = report->charts[0];
  EXPECT_FALSE(chart.from_prometheus_range);
  ASSERT_EQ(chart.series.size(), 1u);
  ASSERT_EQ(chart.series[0].points.size(), 2u);
  EXPECT_DOUBLE_EQ(chart.series[0].points[0].value, 0.5);
  EXPECT_TRUE(std::isnan(chart.series[0].points[1].value));
  EXPECT_EQ(chart.series[0].points[1].text, "NaN");
}

TEST(ParseReport, TimelineReplacesEvaluationSeries) {
  json journal = minimal_journal();
  journal["timeline"] = json::parse(R"({"queries": [
      {"query": "q1", "error": "", "series": [{"labels": {"node": "n1"}, "points": [[1.0, "1"], [2.0, "+Inf"]]},
                                            {"labels": {"node": "n2"}, "points": [[1.0, "0.5"]]}]},
      {"query": "q2", "error": "bad_data: parse error", "series": []}]})");
  auto report = parse_report(journal);
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->charts[0].from_prometheus_range);
  ASSERT_EQ(report->charts[0].series.size(), 2u);
  EXPECT_EQ(report->charts[0].series[0].label, R"({"node":"n1"})");
  EXPECT_TRUE(std::isnan(report->charts[0].series[0].points[1].value));
  EXPECT_EQ(report->charts[0].evaluations.size(), 2u);  // still drawn as dots
  EXPECT_EQ(report->charts[1].error, "bad_data: parse error");
  EXPECT_FALSE(report->charts[2].from_prometheus_range);  // q3 had no range data
}

TEST(ParseReport, ErrorsNameTheField) {
  json journal = minimal_journal();
  journal.erase("verdict");
  EXPECT_EQ(parse_report(journal).status().message(), "verdict: missing");
  journal = minimal_journal();
  journal["schema"] = "other/v9";
  EXPECT_THAT(parse_report(journal).status().message(), HasSubstr("schema: expected 'chaos.journal/v1'"));
  journal["schema"] = 1;  // was an uncaught type_error: "internal error"
  EXPECT_EQ(parse_report(journal).status().message(), "schema: expected 'chaos.journal/v1', found a number");
  journal = minimal_journal();
  journal["faults"][0]["applied_at"] = "yesterday";
  EXPECT_EQ(parse_report(journal).status().message(),
            "faults[0].applied_at: 'yesterday' is not an RFC 3339 time");
  journal = minimal_journal();
  journal["experiment"]["title"] = 42;
  EXPECT_EQ(parse_report(journal).status().message(), "experiment.title: expected a string");
  journal = minimal_journal();
  journal["verdict"]["detected_by"] = "p99";
  EXPECT_EQ(parse_report(journal).status().message(),
            "verdict.detected_by: expected an object (name, kind) or null");
  journal["verdict"]["detected_by"] = nullptr;
  EXPECT_TRUE(parse_report(journal).ok());
  journal["verdict"]["first_violation"] = "ratio";
  EXPECT_EQ(parse_report(journal).status().message(), "verdict.first_violation: expected an object or null");
  journal["verdict"]["first_violation"] = nullptr;
  EXPECT_TRUE(parse_report(journal).ok());
  journal["experiment"]["finding"] = json::array();
  EXPECT_EQ(parse_report(journal).status().message(), "experiment.finding: expected an object or null");
  journal["experiment"]["finding"] = nullptr;
  EXPECT_TRUE(parse_report(journal).ok());
  EXPECT_FALSE(parse_report(json::array()).ok());
}

TEST(LoadReport, InvalidJsonNamesFileLineAndColumn) {
  TempDir dir;
  const std::string path = dir.write("journal.json", "{\n  \"schema\": \"chaos.journal/v1\",\n  \"run\": ]\n}\n");
  auto report = load_report(path);
  ASSERT_FALSE(report.ok());
  EXPECT_THAT(report.status().message(), HasSubstr(path + ":3:10: invalid JSON"));
}

TEST(LoadReport, MissingFileAndBadContentNameTheFile) {
  TempDir dir;
  EXPECT_THAT(load_report(dir.path() + "/journal.json").status().message(),
              HasSubstr(dir.path() + "/journal.json: cannot open the journal"));
  const std::string path = dir.write("journal.json", "{\"schema\": \"chaos.journal/v1\"}");
  EXPECT_EQ(load_report(path).status().message(), path + ": experiment: missing");
}

// /dev/zero as journal.json filled the memory; a FIFO would block.
TEST(LoadReport, OnlyARegularFileOfBoundedSizeIsRead) {
  TempDir dir;
  std::filesystem::create_symlink("/dev/zero", dir.path() + "/journal.json");
  EXPECT_EQ(load_report(dir.path() + "/journal.json").status().message(),
            dir.path() + "/journal.json: not a regular file");
  const std::string big = dir.path() + "/big.json";
  std::filesystem::resize_file(dir.write("big.json", ""), kMaxJournalBytes + 1);
  EXPECT_THAT(load_report(big).status().message(),
              HasSubstr(big + ": " + std::to_string(kMaxJournalBytes + 1) + " bytes, a journal is at most 256 MiB"));
}

TEST(LoadReport, ReadsTheCommittedFixture) {
  const char* source = std::getenv("CHAOS_SOURCE_DIR");
  ASSERT_NE(source, nullptr);
  auto report = load_report(std::string(source) + "/tests/integration/report/fixtures/aborted-run.journal.json");
  ASSERT_TRUE(report.ok()) << report.status().message();
  EXPECT_EQ(report->verdict.result, "aborted");
  EXPECT_EQ(report->charts.size(), 3u);
  EXPECT_EQ(report->faults.size(), 2u);
}

// Answers range queries from a table; unknown queries fail.
class TableRangePrometheus final : public PrometheusClient {
 public:
  StatusOr<QueryResult> instant_query(const std::string&) override { return unavailable("not used"); }
  StatusOr<QueryResult> range_query(const std::string& query, WallTime start, WallTime end,
                                    std::chrono::milliseconds step) override {
    asked.push_back(query);
    span = end - start;
    last_step = step;
    if (down) return unavailable("prometheus down");
    if (query != "q1") return invalid_argument("bad_data: unknown query " + query);
    Series series;
    series.labels = {{"node", "n1"}};
    series.points = {{100, "1", 1}, {101, "NaN", NAN}};
    return QueryResult{"matrix", {series}};
  }
  Status check_ready() override { return {}; }
  bool down = false;
  std::vector<std::string> asked;
  WallTime::duration span{};
  std::chrono::milliseconds last_step{};
};

Experiment timeline_experiment() {
  Experiment experiment;
  experiment.steady_state.push_back({{"a", "q1", Comparator::kGreaterEqual, 0.99}});
  experiment.steady_state.push_back({{"b", "q1", Comparator::kGreaterEqual, 0.9}});
  experiment.aborts.push_back({{"c", "q2", Comparator::kLess, 1}});
  return experiment;
}

TEST(TimelineCollector, QueriesEachDistinctQueryOnceAndKeepsErrors) {
  TableRangePrometheus prometheus;
  const WallTime started{std::chrono::seconds(1'795'428'000)};
  const auto window = timeline_window(started, started + std::chrono::minutes(2));
  const json timeline = collect_timeline(timeline_experiment(), prometheus, window);
  EXPECT_EQ(prometheus.asked, (std::vector<std::string>{"q1", "q2"}));
  EXPECT_EQ(prometheus.span, std::chrono::seconds(150));  // 30 s lead-in
  EXPECT_EQ(prometheus.last_step, std::chrono::seconds(1));
  ASSERT_EQ(timeline["queries"].size(), 2u);
  EXPECT_EQ(timeline["queries"][0]["series"][0]["points"][1][1], "NaN");
  EXPECT_EQ(timeline["queries"][0]["series"][0]["labels"]["node"], "n1");
  EXPECT_THAT(timeline["queries"][1]["error"].get<std::string>(), HasSubstr("unknown query q2"));
  EXPECT_EQ(timeline["start"], "2026-11-23T09:59:30.000Z");
}

TEST(TimelineCollector, StopsAskingOncePrometheusIsUnreachable) {
  TableRangePrometheus prometheus;
  prometheus.down = true;
  const WallTime started{std::chrono::seconds(1'795'428'000)};
  const json timeline =
      collect_timeline(timeline_experiment(), prometheus, timeline_window(started, started + std::chrono::minutes(1)));
  EXPECT_EQ(prometheus.asked.size(), 1u);
  ASSERT_EQ(timeline["queries"].size(), 2u);
  EXPECT_THAT(timeline["queries"][1]["error"].get<std::string>(), HasSubstr("not asked: prometheus down"));
}

TEST(TimelineCollector, LongRunsKeepAboutFiveHundredPoints) {
  const WallTime started{std::chrono::seconds(1'795'428'000)};
  const auto window = timeline_window(started, started + std::chrono::hours(2));
  EXPECT_EQ(window.step, std::chrono::seconds(14));  // 7230 s / 500
}

}  // namespace
}  // namespace chaos::orchestrator::report
