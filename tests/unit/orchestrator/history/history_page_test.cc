// The run history's trend page: a section with charts per experiment, dots
// colored by verdict, links to each run's report.html, escaped titles, and
// the cap on runs per experiment stated on the page.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "orchestrator/history/history_page.h"

namespace chaos::orchestrator::history {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr double kPageT0 = 1'795'000'000;

size_t history_count(const std::string& haystack, const std::string& needle) {
  size_t n = 0;
  for (size_t at = haystack.find(needle); at != std::string::npos; at = haystack.find(needle, at + 1)) ++n;
  return n;
}

HistoryEntry page_run(const std::string& title, int index, const std::string& verdict) {
  HistoryEntry entry;
  entry.experiment_id = title + "-" + std::to_string(index);
  entry.title = title;
  entry.file_path = "/e/" + std::to_string(title.size()) + ".toml";
  entry.started_at = kPageT0 + index * 86400.0;
  entry.finished_at = entry.started_at + 60;
  entry.verdict = verdict;
  entry.exit_code = verdict == "held" ? 0 : verdict == "violated" ? 1 : verdict == "aborted" ? 2 : 3;
  entry.reason = "because";
  entry.time_to_recovery_seconds = 2.0 + index;
  entry.slo_worst = {{"ratio", "sum(ok)/sum(all)", ">=", 0.99, 0.95 + index * 0.01, false}};
  entry.report_dir = "/reports/" + entry.experiment_id;
  return entry;
}

// Newest first, as HistoryStore::list returns them.
std::vector<HistoryEntry> page_runs() {
  return {page_run("delay", 3, "held"), page_run("<script>alert(1)</script>", 2, "violated"),
          page_run("delay", 1, "aborted"), page_run("delay", 0, "error")};
}

std::string section_of(const std::string& page, const std::string& title) {
  const size_t start = page.find("<h2>" + title + "</h2>");
  if (start == std::string::npos) return "";
  return page.substr(start, page.find("</section>", start) - start);
}

TEST(HistoryPage, OneSectionWithTrendChartsPerExperiment) {
  const std::string page = render_history_page(page_runs(), {"/h.sqlite", kPageT0, 200});
  EXPECT_EQ(history_count(page, "<section class=\"experiment-history\">"), 2u);
  const std::string delay = section_of(page, "delay");
  ASSERT_FALSE(delay.empty());
  // Verdicts, time to recovery, and the one SLO's worst values.
  EXPECT_EQ(history_count(delay, "<svg class=\"slo-chart\""), 3u);
  EXPECT_THAT(delay, HasSubstr("worst value per run: ratio (sum(ok)/sum(all))"));
  EXPECT_THAT(delay, HasSubstr("<line class=\"threshold steady-state\""));
  EXPECT_THAT(delay, HasSubstr("circle class=\"evaluation run-held\""));
  EXPECT_THAT(delay, HasSubstr("circle class=\"evaluation run-aborted\""));
  EXPECT_THAT(delay, HasSubstr("circle class=\"evaluation run-error\""));
  EXPECT_THAT(delay, Not(HasSubstr("run-violated\"")));  // that run belongs to the other experiment
  EXPECT_THAT(delay, HasSubstr(">11-18 "));  // the time axis shows dates (month-day)
  EXPECT_LT(page.find("<h2>delay</h2>"), page.find("<h2>&lt;script&gt;"));  // newest run first
}

TEST(HistoryPage, LinksEachRunToItsReport) {
  auto entries = page_runs();
  entries[0].report_dir = "/reports/with space";
  entries[3].report_dir = "";
  const std::string page = render_history_page(entries, {"/h.sqlite", kPageT0, 200});
  EXPECT_THAT(page, HasSubstr("<a class=\"report-link\" href=\"file:///reports/with%20space/report.html\">"));
  EXPECT_THAT(page, HasSubstr("href=\"file:///reports/delay-1/report.html\""));
  EXPECT_EQ(history_count(page, "class=\"report-link\""), 3u);
}

// A directory written again by a later run (--replace-report, a scheduled
// job's fixed path) holds the later report: only the newest run links to it.
TEST(HistoryPage, AnEarlierRunWhoseReportDirALaterRunWroteAgainHasNoLink) {
  auto entries = page_runs();
  entries[0].report_dir = "/reports/latest";  // delay, newest
  entries[1].report_dir = "/reports/latest";  // another experiment, older
  entries[2].report_dir = "/reports/latest";  // delay, older still
  const std::string page = render_history_page(entries, {"/h.sqlite", kPageT0, 200});
  EXPECT_EQ(history_count(page, "href=\"file:///reports/latest/report.html\""), 1u);
  EXPECT_EQ(history_count(page, "<span class=\"report-replaced\" title=\"/reports/latest\">"), 2u);
  const std::string delay = section_of(page, "delay");
  EXPECT_LT(delay.find("report-link\" href=\"file:///reports/latest/"), delay.find("report-replaced"));
  EXPECT_THAT(page, HasSubstr("href=\"file:///reports/delay-0/report.html\""));
}

TEST(HistoryPage, EscapesTitlesAndIsSelfContained) {
  const std::string page = render_history_page(page_runs(), {"/h<b>.sqlite", kPageT0, 200});
  EXPECT_THAT(page, Not(HasSubstr("<script>")));
  EXPECT_THAT(page, HasSubstr("&lt;script&gt;alert(1)&lt;/script&gt;"));
  EXPECT_THAT(page, HasSubstr("/h&lt;b&gt;.sqlite"));
  EXPECT_THAT(page, HasSubstr("Content-Security-Policy\" content=\"default-src 'none'"));
  EXPECT_THAT(page, Not(HasSubstr("http://")));
  EXPECT_THAT(page, Not(HasSubstr("https://")));
}

TEST(HistoryPage, ShowsAtMostTheCapOfRunsPerExperimentAndSaysSo) {
  const std::string page = render_history_page(page_runs(), {"/h.sqlite", kPageT0, 2});
  EXPECT_THAT(page, HasSubstr("<p class=\"history-cap note\">At most the newest 2 runs per experiment"));
  const std::string delay = section_of(page, "delay");
  EXPECT_EQ(history_count(delay, "<tr class=\"run\">"), 2u);
  EXPECT_THAT(delay, HasSubstr("older runs are left out"));
  EXPECT_THAT(delay, Not(HasSubstr("delay-0")));
}

TEST(HistoryPage, NamesTheCheckThatDetectedTheFaultEscaped) {
  auto entries = page_runs();
  entries[0].time_to_detect_seconds = 2;
  entries[0].detected_by = "ratio <vs> control";
  entries[0].detected_by_kind = "compare";
  const std::string page = render_history_page(entries, {"/h.sqlite", kPageT0, 200});
  EXPECT_THAT(page, HasSubstr("<span class=\"detected-by\">by ratio &lt;vs&gt; control (compare)</span>"));
  EXPECT_EQ(history_count(page, "class=\"detected-by\""), 1u);
}

TEST(HistoryPage, EmptyHistorySaysSo) {
  const std::string page = render_history_page({}, {"/h.sqlite", kPageT0, 200});
  EXPECT_THAT(page, HasSubstr("No runs recorded yet."));
  EXPECT_THAT(page, Not(HasSubstr("<svg")));
}

}  // namespace
}  // namespace chaos::orchestrator::history
