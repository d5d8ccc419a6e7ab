// report.html rendering: escaping, charts, fault windows, thresholds, gaps
// for NaN, empty series, no faults and aborted runs.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "orchestrator/report/html_report.h"
#include "orchestrator/report/html_text.h"
#include "orchestrator/report/svg_chart.h"

namespace chaos::orchestrator::report {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr double kT0 = 1'795'000'000;  // 2026-11-18

size_t count(const std::string& haystack, const std::string& needle) {
  size_t n = 0;
  for (size_t at = haystack.find(needle); at != std::string::npos; at = haystack.find(needle, at + 1)) ++n;
  return n;
}

ReportChart ratio_chart() {
  ReportChart chart;
  chart.query = "sum(rate(ok[10s])) / sum(rate(all[10s]))";
  chart.thresholds = {{"ratio", "steady_state", ">=", 0.99, {"before", "during", "after"}},
                      {"collapsed", "abort", "<", 0.5, {"during"}}};
  ReportSeries series;
  for (int i = 0; i <= 60; ++i) series.points.push_back({kT0 + i, i > 20 && i < 40 ? 0.7 : 1.0, "x"});
  chart.series = {series};
  chart.evaluations = {{kT0 + 10, "during", "steady_state", "ratio", true, true, 1.0, "1"},
                       {kT0 + 30, "during", "steady_state", "ratio", false, true, 0.7, "0.7"}};
  chart.from_prometheus_range = true;
  return chart;
}

Report sample_report() {
  Report report;
  report.experiment = {"Kill one broker", "desc", "publish stays up", "experiments/kill.toml", {"nats"}, "20s"};
  report.experiment_id = "kill-one-broker-1";
  report.started_at = kT0;
  report.finished_at = kT0 + 60;
  report.verdict.result = "violated";
  report.verdict.exit_code = 1;
  report.verdict.reason = "the hypothesis did not hold";
  report.verdict.failed_checks = {"ratio [during]: 0.7 >= 0.99 failed"};
  report.verdict.recovery_measured = true;
  report.verdict.recovered = true;
  report.verdict.time_to_recovery_seconds = 4.5;
  report.verdict.last_revert_at = kT0 + 40;
  report.verdict.recovered_at = kT0 + 44.5;
  report.charts = {ratio_chart()};
  ReportFault fault;
  fault.agent = "10.77.0.12:9700";
  fault.node = "n2";
  fault.fault_id = "f-1";
  fault.kind = "process.kill";
  fault.backend = "signal";
  fault.applied_at = kT0 + 20;
  fault.reverted_at = kT0 + 40;
  fault.revert_reason = "duration";
  report.faults = {fault};
  report.events = {{kT0, "phase", "preflight"}, {kT0 + 2, "phase", "steady state before"},
                   {kT0 + 19, "phase", "method"}, {kT0 + 40, "phase", "revert"},
                   {kT0 + 41, "phase", "recovery (within 20s)"}, {kT0 + 50, "phase", "steady state after"}};
  return report;
}

TEST(EscapeHtml, EscapesEveryMarkupCharacter) {
  EXPECT_EQ(escape_html("<a href=\"x\">'&'</a>"), "&lt;a href=&quot;x&quot;&gt;&apos;&amp;&apos;&lt;/a&gt;");
  EXPECT_EQ(escape_html("plain"), "plain");
}

TEST(FormatTimestamp, RoundsToWholeMilliseconds) {
  EXPECT_EQ(format_timestamp(1795428041.3), "2026-11-23 10:00:41.300 UTC");
  EXPECT_EQ(format_timestamp(1795428041.9996), "2026-11-23 10:00:42.000 UTC");
  // A history row can hold any double; these have no date.
  EXPECT_EQ(format_timestamp(std::numeric_limits<double>::infinity()), "?");
  EXPECT_EQ(format_timestamp(1e300), "?");
}

TEST(FormatSeconds, UsesMillisecondsBelowOneSecond) {
  EXPECT_EQ(format_seconds(0.00945), "9 ms");
  EXPECT_EQ(format_seconds(6.2), "6.2 s");
  EXPECT_EQ(format_seconds(65), "1 min 5 s");
}

TEST(FormatNumber, SpellsSpecialFloatsLikePrometheus) {
  EXPECT_EQ(format_number(std::numeric_limits<double>::quiet_NaN()), "NaN");
  EXPECT_EQ(format_number(INFINITY), "+Inf");
  EXPECT_EQ(format_number(-INFINITY), "-Inf");
  EXPECT_EQ(format_number(0.99), "0.99");
}

TEST(ReportHtml, EscapesUserTextEverywhere) {
  Report report = sample_report();
  report.experiment.title = "<script>alert('t')</script>";
  report.experiment.hypothesis = "a < b & c > d";
  report.charts[0].query = "rate(x{job=\"<img src=q>\"}[1m])";
  report.charts[0].thresholds[0].name = "<b>check</b>";
  report.faults[0].detail = "<iframe>";
  report.events.push_back({kT0 + 59, "error", "agent said <script>"});
  const std::string html = render_report_html(report);
  EXPECT_THAT(html, Not(HasSubstr("<script")));
  EXPECT_THAT(html, Not(HasSubstr("<img")));
  EXPECT_THAT(html, Not(HasSubstr("<iframe")));
  EXPECT_THAT(html, Not(HasSubstr("<b>check")));
  EXPECT_THAT(html, HasSubstr("&lt;script&gt;alert(&apos;t&apos;)&lt;/script&gt;"));
  EXPECT_THAT(html, HasSubstr("a &lt; b &amp; c &gt; d"));
  EXPECT_THAT(html, HasSubstr("job=&quot;&lt;img src=q&gt;&quot;"));
}

TEST(ReportHtml, IsSelfContained) {
  const std::string html = render_report_html(sample_report());
  for (const char* external : {"<script", "<link", "src=", "url(", "http://", "https://", "@import"}) {
    EXPECT_THAT(html, Not(HasSubstr(external))) << external;
  }
}

TEST(ReportHtml, HasEverySectionAndTheVerdict) {
  const std::string html = render_report_html(sample_report());
  for (const char* id : {"id=\"verdict\"", "id=\"experiment\"", "id=\"recovery\"", "id=\"timeline\"",
                         "id=\"faults\"", "id=\"events\""}) {
    EXPECT_THAT(html, HasSubstr(id));
  }
  EXPECT_THAT(html, HasSubstr("class=\"verdict verdict-violated\""));
  EXPECT_THAT(html, HasSubstr("the hypothesis was violated (exit 1)"));
  EXPECT_THAT(html, HasSubstr("ratio [during]: 0.7 &gt;= 0.99 failed"));
  EXPECT_THAT(html, HasSubstr("<strong>4.5 s</strong> from the last revert"));
  EXPECT_THAT(html, Not(HasSubstr("id=\"abort\"")));
}

TEST(ReportHtml, DrawsOneChartPerQueryWithThresholdsFaultWindowsAndPhases) {
  Report report = sample_report();
  ReportChart second = ratio_chart();
  second.query = "other";
  second.thresholds.pop_back();
  report.charts.push_back(second);
  const std::string html = render_report_html(report);
  EXPECT_EQ(count(html, "<svg class=\"slo-chart\""), 2u);
  EXPECT_EQ(count(html, "<rect class=\"fault-window\""), 2u);  // one fault, two charts
  EXPECT_EQ(count(html, "<line class=\"threshold "), 3u);
  EXPECT_EQ(count(html, "<line class=\"threshold abort\""), 1u);
  EXPECT_EQ(count(html, "<line class=\"phase-boundary\""), 10u);  // before, method, revert, recovery, after
  EXPECT_EQ(count(html, "<circle class=\"evaluation fail\""), 2u);
}

// Red means something went wrong. In the journal an abort condition's
// "pass" is the condition being true, i.e. the abort firing.
TEST(ReportHtml, TimesToRecoveryAndDetectNameTheirSourceAndAreMarkedOnTheCharts) {
  Report report = sample_report();
  report.verdict.recovery_source = "prometheus_range";
  report.verdict.recovery_resolution_seconds = 1;
  report.verdict.time_to_detect_seconds = 5;
  report.verdict.detected_at = kT0 + 25;
  const std::string html = render_report_html(report);
  EXPECT_THAT(html, HasSubstr("<strong>4.5 s</strong> from the last revert"));
  EXPECT_THAT(html, HasSubstr("held to the end of the run"));
  EXPECT_THAT(html, HasSubstr("from Prometheus range data, 1.0 s resolution"));
  EXPECT_THAT(html, HasSubstr("<p class=\"time-to-detect\">Time to detect: <strong>5.0 s</strong>"));
  EXPECT_THAT(html, Not(HasSubstr("violated sample of")));  // an older journal names no check
  report.verdict.detected_by = "p99 <faulted>";
  report.verdict.detected_by_kind = "compare";
  EXPECT_THAT(render_report_html(report), HasSubstr("the first violated sample of compare <em>p99 &lt;faulted&gt;</em>"));
  EXPECT_THAT(html, HasSubstr(">detected</text>"));
  EXPECT_THAT(html, HasSubstr(">recovered</text>"));
}

// "Nothing was violated" only when the during-checks' range data was read;
// a failed detection query or a run without range data says nothing.
TEST(ReportHtml, NoTimeToDetectIsClaimedOnlyFromRangeData) {
  Report report = sample_report();
  report.verdict.recovery_source = "prometheus_range";
  report.verdict.recovery_resolution_seconds = 1;
  EXPECT_THAT(render_report_html(report), Not(HasSubstr("no during-check or compare sample was violated")));
  report.verdict.detect_source = "prometheus_range";
  EXPECT_THAT(render_report_html(report), HasSubstr("no during-check or compare sample was violated"));
  report.verdict.recovery_source = "recovery_checks";
  report.verdict.time_to_recovery_seconds.reset();
  report.verdict.recovery_measured = true;
  EXPECT_THAT(render_report_html(report), Not(HasSubstr("never held from an instant after the last revert")));
}

TEST(ReportHtml, ARecoveryLaterThanAllowedSaysSo) {
  Report report = sample_report();
  report.verdict.recovery_source = "prometheus_range";
  report.verdict.recovered = false;
  report.verdict.time_to_recovery_seconds = 25;
  EXPECT_THAT(render_report_html(report), HasSubstr("allowed: 20s <strong class=\"late\">(later than allowed)"));
}

TEST(ReportHtml, AbortConditionDotsAreRedOnlyWhenTheyFired) {
  Report report = sample_report();
  report.charts[0].evaluations = {{kT0 + 10, "during", "abort", "collapsed", false, true, 1.0, "1"},
                                  {kT0 + 30, "during", "abort", "collapsed", true, true, 0.4, "0.4"},
                                  {kT0 + 12, "during", "steady_state", "ratio", true, true, 1.0, "1"}};
  const std::string html = render_report_html(report);
  EXPECT_EQ(count(html, "<circle class=\"evaluation not-triggered\""), 1u);
  EXPECT_EQ(count(html, "<circle class=\"evaluation triggered\""), 1u);
  EXPECT_EQ(count(html, "<circle class=\"evaluation pass\""), 1u);
  EXPECT_EQ(count(html, "<circle class=\"evaluation fail\""), 0u);
  EXPECT_THAT(html, HasSubstr(": 1 not triggered</title>"));
  EXPECT_THAT(html, HasSubstr(": 0.4 TRIGGERED</title>"));
  EXPECT_THAT(html, Not(HasSubstr("fired</title>")));
}

TEST(ReportHtml, RedIsKeptForWhatWentWrong) {
  const std::string html = render_report_html(sample_report());
  const std::string red = "#c62828";
  EXPECT_THAT(html, HasSubstr(".evaluation.fail { fill: " + red));
  EXPECT_THAT(html, HasSubstr(".evaluation.triggered { fill: " + red));
  EXPECT_THAT(html, Not(HasSubstr(".evaluation.not-triggered { fill: " + red)));
  EXPECT_THAT(html, Not(HasSubstr(".evaluation.pass { fill: " + red)));
  EXPECT_THAT(html, Not(HasSubstr(".threshold.abort { stroke: " + red)));  // a limit, not an alarm
  EXPECT_THAT(html, Not(HasSubstr("red dashed")));
}

TEST(ReportHtml, AbortedRunShowsTheAbortReason) {
  Report report = sample_report();
  report.verdict.result = "aborted";
  report.verdict.exit_code = 2;
  report.verdict.aborted_by = "publish collapsed";
  report.verdict.reason = "abort condition 'publish collapsed' is true (0.4 < 0.5)";
  report.events.push_back({kT0 + 30, "abort", "abort condition fired: reverting every fault now"});
  const std::string html = render_report_html(report);
  EXPECT_THAT(html, HasSubstr("id=\"abort\""));
  EXPECT_THAT(html, HasSubstr("<strong class=\"aborted-by\">publish collapsed</strong>"));
  EXPECT_THAT(html, HasSubstr("abort condition fired: reverting every fault now"));
  EXPECT_THAT(html, HasSubstr("verdict-aborted"));
  EXPECT_THAT(html, HasSubstr("(exit 2)"));
}

TEST(ReportHtml, RunWithoutFaultsSaysSo) {
  Report report = sample_report();
  report.faults.clear();
  const std::string html = render_report_html(report);
  EXPECT_THAT(html, HasSubstr("No fault was injected."));
  EXPECT_EQ(count(html, "fault-window\""), 0u);
}

TEST(ReportHtml, FaultTableGroupsByAgent) {
  Report report = sample_report();
  ReportFault other = report.faults[0];
  other.agent = "10.77.0.13:9700";
  other.node = "n3";
  other.reverted_at.reset();
  other.expires_at = kT0 + 50;
  report.faults.push_back(other);
  const std::string html = render_report_html(report);
  EXPECT_EQ(count(html, "<table class=\"faults\">"), 2u);
  EXPECT_EQ(count(html, "<tr class=\"fault\">"), 2u);
  EXPECT_THAT(html, HasSubstr("<code>10.77.0.13:9700</code>"));
}

TEST(ReportHtml, FaultInContainersNamesEachBeneathItsKind) {
  Report report = sample_report();
  EXPECT_THAT(render_report_html(report), HasSubstr("<td>n2</td><td>process.kill</td><td>signal</td>"));
  ReportContainer pod{"podman", "3f2a9c1b7e44d0c1", "k8s_nats_nats-0", "net:[4026532301]", "messaging", "nats-0"};
  pod.pid = 4242;
  report.faults[0].containers = {pod, {"docker", "77aa00bb11cc22dd", "<b>", "", "", ""}};
  const std::string html = render_report_html(report);
  EXPECT_THAT(html, HasSubstr("<td>process.kill<br><small class=\"container\" title=\"id 3f2a9c1b7e44 pid 4242 "
                              "net:[4026532301]\">in podman k8s_nats_nats-0 (pod messaging/nats-0)</small>"
                              "<br><small class=\"container\" title=\"id 77aa00bb11cc pid 0\">in docker &lt;b&gt;"
                              "</small></td>"));
}

TEST(SvgChart, NanBreaksTheLineInsteadOfDrawingZero) {
  ReportChart chart = ratio_chart();
  chart.series[0].points[30].value = std::numeric_limits<double>::quiet_NaN();
  chart.series[0].points[31].value = INFINITY;
  ChartFrame frame{kT0, kT0 + 60, {}, {}};
  const std::string svg = render_slo_chart(chart, frame);
  EXPECT_EQ(count(svg, "<polyline class=\"series"), 2u);
  EXPECT_THAT(svg, Not(HasSubstr("nan")));
  EXPECT_THAT(svg, Not(HasSubstr("inf")));
}

TEST(SvgChart, EmptySeriesSaysNoDataAndStillDrawsThresholds) {
  ReportChart chart = ratio_chart();
  chart.series = {ReportSeries{}};
  chart.evaluations.clear();
  ChartFrame frame{kT0, kT0 + 60, {{kT0 + 10, kT0 + 20, "n1 x"}}, {}};
  const std::string svg = render_slo_chart(chart, frame);
  EXPECT_THAT(svg, HasSubstr("no numeric data in this run"));
  EXPECT_EQ(count(svg, "<polyline"), 0u);
  EXPECT_EQ(count(svg, "<line class=\"threshold "), 2u);
  EXPECT_EQ(count(svg, "<rect class=\"fault-window\""), 1u);
}

TEST(SvgChart, FaultWindowSpansAppliedToReverted) {
  Report report = sample_report();
  const ChartFrame frame = chart_frame(report);
  ASSERT_EQ(frame.fault_windows.size(), 1u);
  EXPECT_DOUBLE_EQ(frame.fault_windows[0].start, kT0 + 20);
  EXPECT_DOUBLE_EQ(frame.fault_windows[0].end, kT0 + 40);
  // x = 70 + (t - start) / 60 * 860: applied at +20 s -> 356.7, 20 s wide -> 286.7
  const std::string svg = render_slo_chart(report.charts[0], frame);
  EXPECT_THAT(svg, HasSubstr("<rect class=\"fault-window\" x=\"356.7\" y=\"38.0\" width=\"286.7\""));
}

TEST(SvgChart, TimeAxisHasClockLabels) {
  ChartFrame frame{kT0, kT0 + 60, {}, {}};
  const std::string svg = render_slo_chart(ratio_chart(), frame);
  EXPECT_EQ(count(svg, "class=\"x-tick\""), 7u);
  EXPECT_THAT(svg, HasSubstr(">" + format_clock(kT0 + 60) + "</text>"));
}

TEST(SvgChart, ValueAxisUsesRoundSteps) {
  ChartFrame frame{kT0, kT0 + 60, {}, {}};
  ReportChart chart = ratio_chart();  // values 0.7..1, thresholds 0.5 and 0.99
  const std::string svg = render_slo_chart(chart, frame);
  for (const char* tick : {">0.4</text>", ">0.6</text>", ">0.8</text>", ">1</text>"}) {
    EXPECT_THAT(svg, HasSubstr(tick)) << tick;
  }
  EXPECT_EQ(count(svg, "class=\"y-tick\""), 5u);  // 0.4 to 1.2 by 0.2 (0.5..1 padded)
}

TEST(SvgChart, NegativeValuesKeepTheirAxis) {
  ReportChart chart;
  chart.query = "delta";
  chart.thresholds = {{"delta", "steady_state", ">", -5, {"during"}}};
  chart.series = {ReportSeries{"", {{kT0, -8, "-8"}, {kT0 + 60, 2, "2"}}}};
  const std::string svg = render_slo_chart(chart, ChartFrame{kT0, kT0 + 60, {}, {}});
  EXPECT_THAT(svg, HasSubstr(">-10</text>"));
  EXPECT_THAT(svg, HasSubstr(">0</text>"));
  EXPECT_THAT(svg, HasSubstr(">5</text>"));  // -8.4..2.4 in steps of 5
}

TEST(SvgChart, FlatZeroSeriesStillHasAnAxis) {
  ReportChart chart;
  chart.query = "lost";
  chart.thresholds = {{"lost", "steady_state", "<=", 0, {"after"}}};
  chart.series = {ReportSeries{"", {{kT0, 0, "0"}, {kT0 + 60, 0, "0"}}}};
  const std::string svg = render_slo_chart(chart, ChartFrame{kT0, kT0 + 60, {}, {}});
  EXPECT_THAT(svg, HasSubstr(">0</text>"));
  EXPECT_THAT(svg, HasSubstr(">1</text>"));
  EXPECT_THAT(svg, Not(HasSubstr(">-")));  // nothing below zero for non-negative data
  EXPECT_THAT(svg, Not(HasSubstr("no numeric data")));
}

TEST(ReportHtml, SeveralSeriesGetALegendWithTheirLabels) {
  Report report = sample_report();
  ReportSeries second = report.charts[0].series[0];
  second.label = R"({"node":"n<2>"})";
  report.charts[0].series.push_back(second);
  const std::string html = render_report_html(report);
  EXPECT_EQ(count(html, "<ul class=\"legend\">"), 1u);
  EXPECT_THAT(html, HasSubstr("<li class=\"series-1\">{&quot;node&quot;:&quot;n&lt;2&gt;&quot;}</li>"));
}

TEST(ReportHtml, ErrorRunWithoutEvaluationsStillRenders) {
  Report report = sample_report();
  report.verdict.result = "error";
  report.verdict.exit_code = 3;
  report.verdict.time_to_recovery_seconds.reset();
  report.verdict.recovery_measured = false;
  report.charts[0].series = {ReportSeries{}};
  report.charts[0].evaluations.clear();
  report.faults.clear();
  const std::string html = render_report_html(report);
  EXPECT_THAT(html, HasSubstr("verdict-error"));
  EXPECT_THAT(html, HasSubstr("a configuration or infrastructure error (exit 3)"));
  EXPECT_THAT(html, HasSubstr("no numeric data in this run"));
  EXPECT_THAT(html, HasSubstr("not measured"));
}

}  // namespace
}  // namespace chaos::orchestrator::report
