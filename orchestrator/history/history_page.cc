#include "orchestrator/history/history_page.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <map>
#include <set>
#include <sstream>

#include "orchestrator/report/html_text.h"
#include "orchestrator/report/report_style.h"
#include "orchestrator/report/svg_chart.h"

namespace chaos::orchestrator::history {

namespace {

using report::escape_html;
using report::format_number;
using report::format_seconds;
using report::format_timestamp;

// The run history's own additions to report.html's stylesheet: verdict
// colors as in the report's verdict box.
constexpr const char* kHistoryPageStyle = R"css(
.evaluation.run-held { fill: #2e8b47; } .evaluation.run-violated { fill: #c62828; }
.evaluation.run-aborted { fill: #e08600; } .evaluation.run-error { fill: #7b3fa0; }
td.run-held { color: #2e8b47; font-weight: 600; } td.run-violated { color: #c62828; font-weight: 600; }
td.run-aborted { color: #b36b00; font-weight: 600; } td.run-error { color: #7b3fa0; font-weight: 600; }
)css";

struct HistoryPageGroup {
  std::string title;
  std::vector<const HistoryEntry*> runs;  // newest first
};

// Runs whose report directory a later run wrote again (--replace-report, or
// a scheduled job's fixed path): their link would open the later report.
using ReplacedReports = std::set<const HistoryEntry*>;

ReplacedReports history_page_replaced_reports(const std::vector<HistoryEntry>& entries) {
  std::vector<const HistoryEntry*> newest_first;
  for (const auto& entry : entries) newest_first.push_back(&entry);
  std::stable_sort(newest_first.begin(), newest_first.end(),
                   [](const HistoryEntry* a, const HistoryEntry* b) { return a->started_at > b->started_at; });
  ReplacedReports replaced;
  std::set<std::string> written_later;
  for (const HistoryEntry* entry : newest_first) {
    if (entry->report_dir.empty()) continue;
    if (!written_later.insert(entry->report_dir).second) replaced.insert(entry);
  }
  return replaced;
}

// Groups by title, the experiment with the newest run first.
std::vector<HistoryPageGroup> history_page_groups(const std::vector<HistoryEntry>& entries, size_t cap) {
  std::vector<HistoryPageGroup> groups;
  std::map<std::string, size_t> index;
  for (const auto& entry : entries) {
    auto [found, inserted] = index.emplace(entry.title, groups.size());
    if (inserted) groups.push_back({entry.title, {}});
    auto& runs = groups[found->second].runs;
    if (runs.size() < cap) runs.push_back(&entry);
  }
  return groups;
}

const char* history_page_verdict_class(const std::string& verdict) {
  if (verdict == "held") return "run-held";
  if (verdict == "violated") return "run-violated";
  if (verdict == "aborted") return "run-aborted";
  return "run-error";
}

// A link that works from wherever the page is opened: file:// and the
// absolute path, percent-encoded.
std::string history_page_file_url(const std::string& path) {
  static constexpr char kHistoryPageHex[] = "0123456789ABCDEF";
  std::string url = "file://";
  for (const unsigned char c : path) {
    if (std::isalnum(c) || c == '/' || c == '-' || c == '_' || c == '.' || c == '~') {
      url += static_cast<char>(c);
    } else {
      url += '%';
      url += kHistoryPageHex[c >> 4];
      url += kHistoryPageHex[c & 0xf];
    }
  }
  return url;
}

// Every chart of one experiment shares the time axis of its runs, padded so
// a single run is not drawn on the edge.
report::ChartFrame history_page_frame(const HistoryPageGroup& group) {
  double start = INFINITY, end = -INFINITY;
  for (const auto* run : group.runs) {
    start = std::min(start, run->started_at);
    end = std::max(end, run->started_at);
  }
  const double pad = std::max((end - start) * 0.05, 3600.0);
  report::ChartFrame frame{start - pad, end + pad, {}, {}};
  frame.date_ticks = true;
  return frame;
}

report::ReportEvaluation history_page_point(const HistoryEntry& run, double value, const std::string& what) {
  report::ReportEvaluation point;
  point.time = run.started_at;
  point.phase = run.verdict;
  point.kind = "history";
  point.name = run.experiment_id;
  point.pass = run.verdict == "held";
  point.has_data = std::isfinite(value);
  point.value = value;
  point.text = what;
  point.point_class = history_page_verdict_class(run.verdict);
  return point;
}

// The series oldest first, so the line runs left to right.
report::ReportChart history_page_ttr_chart(const HistoryPageGroup& group) {
  report::ReportChart chart;
  chart.query = "time to recovery (seconds)";
  report::ReportSeries series{"time to recovery (s)", {}};
  for (auto it = group.runs.rbegin(); it != group.runs.rend(); ++it) {
    const HistoryEntry& run = **it;
    const double value = run.time_to_recovery_seconds ? *run.time_to_recovery_seconds : NAN;
    series.points.push_back({run.started_at, value, run.time_to_recovery_seconds ? format_number(value) : "none"});
    if (run.time_to_recovery_seconds) {
      chart.evaluations.push_back(history_page_point(run, value, run.verdict + ", time to recovery " +
                                                                     format_seconds(value)));
    }
  }
  chart.series.push_back(std::move(series));
  return chart;
}

// Exit codes 0-3 on the y axis: every run gets a dot, also one without any
// recovery figure or SLO value.
report::ReportChart history_page_verdict_chart(const HistoryPageGroup& group) {
  report::ReportChart chart;
  chart.query = "verdict (exit code: 0 held, 1 violated, 2 aborted, 3 error)";
  for (auto it = group.runs.rbegin(); it != group.runs.rend(); ++it) {
    const HistoryEntry& run = **it;
    chart.evaluations.push_back(history_page_point(run, run.exit_code, run.verdict + ": " + run.reason));
  }
  chart.series.push_back({"", {}});
  for (const auto& point : chart.evaluations) chart.series.back().points.push_back({point.time, point.value, ""});
  return chart;
}

// One chart per steady-state check name, in the order the newest run has them.
std::vector<report::ReportChart> history_page_slo_charts(const HistoryPageGroup& group,
                                                         std::vector<std::string>& uncharted) {
  std::vector<std::string> names;
  for (const auto* run : group.runs) {
    for (const auto& slo : run->slo_worst) {
      if (std::find(names.begin(), names.end(), slo.name) == names.end()) names.push_back(slo.name);
    }
  }
  std::vector<report::ReportChart> charts;
  for (const auto& name : names) {
    if (charts.size() >= kHistoryPageChartsPerExperiment) {
      uncharted.push_back(name);
      continue;
    }
    report::ReportChart chart;
    chart.query = "worst value per run: " + name;
    report::ReportSeries series{name, {}};
    bool threshold_set = false;
    for (auto it = group.runs.rbegin(); it != group.runs.rend(); ++it) {
      const HistoryEntry& run = **it;
      const auto slo = std::find_if(run.slo_worst.begin(), run.slo_worst.end(),
                                    [&](const SloWorst& item) { return item.name == name; });
      if (slo == run.slo_worst.end()) {
        series.points.push_back({run.started_at, NAN, "none"});
        continue;
      }
      series.points.push_back({run.started_at, slo->worst, format_number(slo->worst)});
      chart.evaluations.push_back(history_page_point(
          run, slo->worst, run.verdict + ", worst " + format_number(slo->worst) + " (" + slo->comparator + " " +
                               format_number(slo->threshold) + (slo->held ? " held)" : " failed)")));
      if (!threshold_set) {
        chart.query = "worst value per run: " + name + " (" + slo->query + ")";
        threshold_set = true;
      }
      // The newest run's threshold is the one drawn (experiments change).
      chart.thresholds = {{name, "steady_state", slo->comparator, slo->threshold, {"worst of each run"}}};
    }
    chart.series.push_back(std::move(series));
    charts.push_back(std::move(chart));
  }
  return charts;
}

void history_page_chart(std::ostream& out, const report::ReportChart& chart, const report::ChartFrame& frame) {
  out << "<figure class=\"chart\">\n<figcaption><span class=\"chart-title\">" << escape_html(chart.query)
      << "</span></figcaption>\n"
      << report::render_slo_chart(chart, frame) << "</figure>\n";
}

std::string history_page_optional(const std::optional<double>& seconds) {
  return seconds ? format_seconds(*seconds) : "-";
}

void history_page_runs_table(std::ostream& out, const HistoryPageGroup& group, const ReplacedReports& replaced) {
  out << "<table class=\"runs\">\n<tr><th>started</th><th>verdict</th><th>time to recovery</th>"
         "<th>time to detect</th><th>worst SLO values</th><th>faults</th><th>report</th></tr>\n";
  for (const auto* run : group.runs) {
    std::string worst;
    for (const auto& slo : run->slo_worst) {
      worst += (worst.empty() ? "" : "<br>") + escape_html(slo.name) + ": " + format_number(slo.worst);
    }
    std::string faults;
    for (const auto& fault : run->faults) {
      faults += (faults.empty() ? "" : "<br>") + escape_html(fault.kind) + " on " + escape_html(fault.node) +
                (fault.reverted_at ? "" : " <strong>not reverted</strong>") +
                (fault.ended_early ? " (ended early)" : "");
    }
    out << "<tr class=\"run\"><td title=\"" << escape_html(run->experiment_id) << "\">"
        << format_timestamp(run->started_at) << "</td><td class=\"" << history_page_verdict_class(run->verdict)
        << "\" title=\"" << escape_html(run->reason) << "\">" << escape_html(run->verdict) << "</td><td>"
        << history_page_optional(run->time_to_recovery_seconds) << "</td><td>"
        << history_page_optional(run->time_to_detect_seconds)
        << (run->detected_by.empty() ? std::string()
                                     : "<br><span class=\"detected-by\">by " + escape_html(run->detected_by) +
                                           (run->detected_by_kind == "compare" ? " (compare)" : "") + "</span>")
        << "</td><td>" << worst << "</td><td>" << faults;
    for (const auto& leftover : run->leftovers) {
      out << "<br><span class=\"leftovers\">LEFT BEHIND: " << escape_html(leftover) << "</span>";
    }
    out << "</td><td>";
    if (run->report_dir.empty()) {
      out << "-";
    } else if (replaced.count(run) != 0) {
      out << "<span class=\"report-replaced\" title=\"" << escape_html(run->report_dir)
          << "\">replaced by a later run's report</span>";
    } else {
      out << "<a class=\"report-link\" href=\""
          << escape_html(history_page_file_url(run->report_dir + "/report.html")) << "\">report.html</a>";
    }
    out << "</td></tr>\n";
  }
  out << "</table>\n";
}

void history_page_group(std::ostream& out, const HistoryPageGroup& group, size_t cap, const ReplacedReports& replaced) {
  const HistoryEntry& newest = *group.runs.front();
  out << "<section class=\"experiment-history\">\n<h2>" << escape_html(group.title) << "</h2>\n<dl>\n"
      << "<dt>file</dt><dd><code>" << escape_html(newest.file_path) << "</code></dd>\n"
      << "<dt>runs shown</dt><dd>" << group.runs.size() << " (newest " << format_timestamp(newest.started_at)
      << ")" << (group.runs.size() >= cap ? ", older runs are left out" : "") << "</dd>\n</dl>\n";
  const report::ChartFrame frame = history_page_frame(group);
  history_page_chart(out, history_page_verdict_chart(group), frame);
  history_page_chart(out, history_page_ttr_chart(group), frame);
  std::vector<std::string> uncharted;
  for (const auto& chart : history_page_slo_charts(group, uncharted)) history_page_chart(out, chart, frame);
  if (!uncharted.empty()) {
    std::string names;
    for (const auto& name : uncharted) names += (names.empty() ? "" : ", ") + escape_html(name);
    out << "<p class=\"note\">not charted (" << kHistoryPageChartsPerExperiment
        << " SLO charts per experiment at most), see the table: " << names << "</p>\n";
  }
  history_page_runs_table(out, group, replaced);
  out << "</section>\n";
}

}  // namespace

std::string render_history_page(const std::vector<HistoryEntry>& entries, const HistoryPageOptions& options) {
  const size_t cap = std::max<size_t>(options.runs_per_experiment, 1);
  const auto groups = history_page_groups(entries, cap);
  std::ostringstream out;
  out << "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      << "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n"
      << "<title>chaosctl run history</title>\n<style>\n" << report::kReportStyle << kHistoryPageStyle
      << "</style>\n</head>\n<body>\n<header><h1>Run history</h1></header>\n<main>\n"
      << "<section id=\"history-summary\">\n<dl>\n<dt>database</dt><dd><code>" << escape_html(options.source)
      << "</code></dd>\n<dt>generated</dt><dd>" << format_timestamp(options.generated_at) << "</dd>\n"
      << "<dt>experiments</dt><dd>" << groups.size() << "</dd>\n</dl>\n"
      << "<p class=\"history-cap note\">At most the newest " << cap
      << " runs per experiment are shown. Dots are runs, colored by verdict: green held, red violated, "
         "orange aborted, purple error.</p>\n</section>\n";
  if (groups.empty()) out << "<section id=\"no-runs\"><p>No runs recorded yet.</p></section>\n";
  const ReplacedReports replaced = history_page_replaced_reports(entries);
  for (const auto& group : groups) history_page_group(out, group, cap, replaced);
  out << "</main>\n<footer>chaosctl run history, rendered from the history database</footer>\n</body>\n</html>\n";
  return out.str();
}

}  // namespace chaos::orchestrator::history
