// report.html's Finding section (issue 23): shown for violated runs (and
// aborted ones whose first violation is known), escaped, never for held runs.
#include "orchestrator/report/finding_section.h"

#include <limits>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "orchestrator/report/html_report.h"

namespace chaos::orchestrator::report {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr double kFindingT0 = 1'795'000'000;  // 2026-11-18

ReportFirstViolation finding_violation() {
  ReportFirstViolation violation;
  violation.name = "delivered <ratio>";
  violation.phase = "during";
  violation.kind = "steady_state";
  violation.query = "sum(rate(x[5s])) > 0 & \"y\"";
  violation.comparator = ">=";
  violation.threshold = 0.8;
  violation.value = 0.4;
  violation.value_text = "0.4";
  violation.at = kFindingT0 + 17;
  violation.seconds_after_inject = 7;
  return violation;
}

Report finding_report(const std::string& result) {
  Report report;
  report.experiment.title = "stranded client";
  report.started_at = kFindingT0;
  report.finished_at = kFindingT0 + 60;
  report.verdict.result = result;
  report.verdict.first_violation = finding_violation();
  report.experiment.finding = ReportFinding{"stuck on a dead server", "ping_interval 2m x max_pings_out 2",
                                            "use <b>--ping-interval 1s</b>", "stranded-client-remedied.toml"};
  return report;
}

TEST(FindingSectionTest, AViolatedRunSaysWhatBrokeFirstWhenAndByHowMuch) {
  const std::string html = render_report_html(finding_report("violated"));
  EXPECT_THAT(html, HasSubstr("<section id=\"finding\""));
  EXPECT_LT(html.find("id=\"finding\""), html.find("id=\"experiment\""));  // near the top
  EXPECT_THAT(html, HasSubstr("<strong>delivered &lt;ratio&gt;</strong> [during]"));
  EXPECT_THAT(html, HasSubstr("sum(rate(x[5s])) &gt; 0 &amp; &quot;y&quot;"));
  EXPECT_THAT(html, HasSubstr("2026-11-18 "));
  EXPECT_THAT(html, HasSubstr("(+7.0 s after the first inject)"));
  EXPECT_THAT(html, HasSubstr("<code>0.4</code> &gt;= 0.8 failed, off by -0.4 (0.5x the threshold)"));
  EXPECT_THAT(html, HasSubstr("stuck on a dead server"));
  EXPECT_THAT(html, HasSubstr("ping_interval 2m x max_pings_out 2"));
  EXPECT_THAT(html, HasSubstr("use &lt;b&gt;--ping-interval 1s&lt;/b&gt;"));
  EXPECT_THAT(html, Not(HasSubstr("<b>--ping-interval")));
  EXPECT_THAT(html, HasSubstr("<code>stranded-client-remedied.toml</code>"));
}

TEST(FindingSectionTest, AHeldRunHasNoFindingSection) {
  EXPECT_THAT(render_report_html(finding_report("held")), Not(HasSubstr("id=\"finding\"")));
  EXPECT_THAT(render_report_html(finding_report("error")), Not(HasSubstr("id=\"finding\"")));
}

TEST(FindingSectionTest, AnAbortedRunHasTheSectionOnlyWhenAViolationCameFirst) {
  Report report = finding_report("aborted");
  EXPECT_THAT(render_report_html(report), HasSubstr("id=\"finding\""));
  report.verdict.first_violation.reset();
  EXPECT_THAT(render_report_html(report), Not(HasSubstr("id=\"finding\"")));
}

TEST(FindingSectionTest, WithoutAFindingTableOnlyTheViolationIsShown) {
  Report report = finding_report("violated");
  report.experiment.finding.reset();
  const std::string html = render_report_html(report);
  EXPECT_THAT(html, HasSubstr("id=\"finding\""));
  EXPECT_THAT(html, Not(HasSubstr("finding-remedy")));
  report.verdict.first_violation.reset();
  EXPECT_THAT(render_report_html(report), HasSubstr("no failed check evaluation was recorded"));
}

TEST(FindingSectionTest, ABeforePhaseBreakSaysTheMethodNeverRan) {
  Report report = finding_report("violated");
  report.verdict.first_violation->phase = "before";
  report.verdict.first_violation->seconds_after_inject.reset();
  EXPECT_THAT(render_report_html(report), HasSubstr("(before any inject: the method never ran)"));
}

TEST(FindingSectionTest, MarginLeavesOutWhatIsNotMeaningful) {
  ReportFirstViolation violation = finding_violation();
  EXPECT_EQ(violation_margin(violation), "-0.4 (0.5x the threshold)");
  violation.comparator = "==";
  EXPECT_EQ(violation_margin(violation), "-0.4");
  violation.comparator = "<";
  violation.value = 0.9;
  violation.threshold = 0;
  EXPECT_EQ(violation_margin(violation), "+0.9");
  violation.value.reset();  // NaN or no data in the journal: null
  EXPECT_EQ(violation_margin(violation), "");
  violation.value = std::numeric_limits<double>::infinity();
  EXPECT_EQ(violation_margin(violation), "");
}

TEST(FindingSectionTest, NoValueIsShownAsItsText) {
  Report report = finding_report("violated");
  report.verdict.first_violation->value.reset();
  report.verdict.first_violation->value_text = "NaN";
  const std::string html = render_report_html(report);
  EXPECT_THAT(html, HasSubstr("<code>NaN</code> &gt;= 0.8 failed</dd>"));
}

TEST(FindingSectionTest, TheJournalsFirstViolationAndFindingAreParsed) {
  nlohmann::json journal = {
      {"schema", "chaos.journal/v1"},
      {"experiment", {{"title", "t"}, {"finding", {{"observed", "o"}, {"mechanism", "m"}, {"remedy", "r"},
                                                   {"remedied_by", nullptr}}}}},
      {"run", {{"started_at", "2026-11-18T10:00:00.000Z"}, {"finished_at", "2026-11-18T10:01:00.000Z"}}},
      {"verdict", {{"result", "violated"},
                   {"first_violation", {{"name", "n"}, {"phase", "after"}, {"kind", "steady_state"},
                                        {"query", "q"}, {"comparator", "<"}, {"threshold", 0.25},
                                        {"value", nullptr}, {"value_text", "NaN"}, {"error", ""},
                                        {"at", "2026-11-18T10:00:30.500Z"}, {"seconds_after_inject", 20.5},
                                        {"summary", "s"}}}}}};
  auto report = parse_report(journal);
  ASSERT_TRUE(report.ok()) << report.status().message();
  ASSERT_TRUE(report->experiment.finding.has_value());
  EXPECT_EQ(report->experiment.finding->remedy, "r");
  EXPECT_EQ(report->experiment.finding->remedied_by, "");
  ASSERT_TRUE(report->verdict.first_violation.has_value());
  EXPECT_EQ(report->verdict.first_violation->threshold, 0.25);
  EXPECT_FALSE(report->verdict.first_violation->value.has_value());
  EXPECT_EQ(report->verdict.first_violation->seconds_after_inject, 20.5);
  EXPECT_DOUBLE_EQ(report->verdict.first_violation->at, parse_rfc3339("2026-11-18T10:00:30.500Z").value());
  const std::string html = render_report_html(*report);
  EXPECT_THAT(html, HasSubstr("(+20.5 s after the first inject)"));
  EXPECT_THAT(html, Not(HasSubstr("finding-remedied-by")));
  // An older journal without either key still parses, without the section's details.
  journal["verdict"].erase("first_violation");
  journal["experiment"].erase("finding");
  report = parse_report(journal);
  ASSERT_TRUE(report.ok());
  EXPECT_FALSE(report->verdict.first_violation.has_value());
  EXPECT_FALSE(report->experiment.finding.has_value());
}

}  // namespace
}  // namespace chaos::orchestrator::report
