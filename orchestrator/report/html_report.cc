#include "orchestrator/report/html_report.h"

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <map>
#include <set>
#include <sstream>

#include "orchestrator/report/finding_section.h"
#include "orchestrator/report/html_text.h"
#include "orchestrator/report/report_style.h"

namespace chaos::orchestrator::report {

namespace {

std::string verdict_meaning(const std::string& result) {
  if (result == "held") return "the hypothesis held (exit 0)";
  if (result == "violated") return "the hypothesis was violated (exit 1)";
  if (result == "aborted") return "a stop condition or an interrupt aborted the run (exit 2)";
  return "the experiment did not run as designed: a fault ended before its time, or a configuration or "
         "infrastructure error (exit 3)";
}

// "steady state before" -> "before"; the chart marks where each phase begins.
std::string phase_label(const std::string& message) {
  if (message == "steady state before") return "before";
  if (message == "method") return "method";
  if (message == "revert") return "revert";
  if (message.rfind("recovery", 0) == 0) return "recovery";
  if (message == "steady state after") return "after";
  return "";
}

std::string optional_time(const std::optional<double>& time) { return time ? format_timestamp(*time) : "-"; }

void write_verdict(std::ostream& out, const Report& report) {
  const ReportVerdict& verdict = report.verdict;
  out << "<section id=\"verdict\" class=\"verdict verdict-" << escape_html(verdict.result) << "\">\n"
      << "<div class=\"verdict-result\">" << escape_html(verdict.result) << "</div>\n"
      << "<div class=\"verdict-meaning\">" << escape_html(verdict_meaning(verdict.result)) << "</div>\n"
      << "<div class=\"verdict-reason\">" << escape_html(verdict.reason) << "</div>\n";
  if (!verdict.failed_checks.empty()) {
    out << "<ul class=\"failed-checks\">\n";
    for (const auto& check : verdict.failed_checks) out << "<li>" << escape_html(check) << "</li>\n";
    out << "</ul>\n";
  }
  for (const auto& agent : verdict.unreverted) {
    out << "<div class=\"unreverted\">NOT REVERTED: " << escape_html(agent) << "</div>\n";
  }
  if (!verdict.leftovers.empty()) {
    out << "<ul id=\"leftovers\" class=\"leftovers\">\n";
    for (const auto& leftover : verdict.leftovers) out << "<li>LEFT BEHIND: " << escape_html(leftover) << "</li>\n";
    out << "</ul>\n";
  }
  if (!verdict.foreign_changes.empty()) {
    out << "<ul id=\"foreign-changes\" class=\"foreign-changes\">\n";
    for (const auto& change : verdict.foreign_changes) {
      out << "<li>changed by other software meanwhile (not this run): " << escape_html(change) << "</li>\n";
    }
    out << "</ul>\n";
  }
  if (!verdict.ended_early.empty()) {
    out << "<ul id=\"ended-early\" class=\"ended-early\">\n";
    for (const auto& end : verdict.ended_early) {
      out << "<li>ENDED EARLY: fault <code>" << escape_html(end.fault_id) << "</code> (" << escape_html(end.kind)
          << ") on <code>" << escape_html(end.agent) << "</code>"
          << (end.node.empty() || end.node == end.agent ? "" : " [" + escape_html(end.node) + "]") << ": "
          << "<strong class=\"early-end-reason\">" << escape_html(end.reason) << "</strong>"
          << (end.detail.empty() ? "" : " (" + escape_html(end.detail) + ")") << "</li>\n";
    }
    out << "</ul>\n";
  }
  out << "</section>\n";
}

void write_experiment(std::ostream& out, const Report& report) {
  const ReportExperiment& experiment = report.experiment;
  std::string tags;
  for (const auto& tag : experiment.tags) tags += (tags.empty() ? "" : ", ") + tag;
  out << "<section id=\"experiment\">\n<h2>Experiment</h2>\n<dl>\n"
      << "<dt>Title</dt><dd class=\"title\">" << escape_html(experiment.title) << "</dd>\n"
      << "<dt>Hypothesis</dt><dd class=\"hypothesis\">" << escape_html(experiment.hypothesis) << "</dd>\n"
      << "<dt>Description</dt><dd class=\"description\">" << escape_html(experiment.description) << "</dd>\n"
      << "<dt>File</dt><dd><code>" << escape_html(experiment.source) << "</code></dd>\n"
      << "<dt>Tags</dt><dd>" << escape_html(tags) << "</dd>\n"
      << "<dt>Run</dt><dd><code>" << escape_html(report.experiment_id) << "</code></dd>\n"
      << "<dt>Started</dt><dd>" << format_timestamp(report.started_at) << "</dd>\n"
      << "<dt>Finished</dt><dd>" << format_timestamp(report.finished_at) << " ("
      << format_seconds(report.finished_at - report.started_at) << ")</dd>\n</dl>\n</section>\n";
}

void write_abort(std::ostream& out, const Report& report) {
  if (report.verdict.result != "aborted" && report.verdict.aborted_by.empty()) return;
  out << "<section id=\"abort\">\n<h2>Aborted</h2>\n<p>Aborted by <strong class=\"aborted-by\">"
      << escape_html(report.verdict.aborted_by) << "</strong>: " << escape_html(report.verdict.reason) << "</p>\n";
  for (const auto& event : report.events) {
    if (event.type == "abort" || event.type == "interrupt") {
      out << "<p class=\"abort-event\">" << format_timestamp(event.time) << ": " << escape_html(event.message)
          << "</p>\n";
    }
  }
  out << "</section>\n";
}

// "1 s resolution" for journals that carry it; older journals say nothing.
std::string resolution_note(const ReportVerdict& verdict) {
  if (!verdict.recovery_resolution_seconds) return "";
  return ", " + format_seconds(*verdict.recovery_resolution_seconds) + " resolution";
}

void write_detection(std::ostream& out, const Report& report) {
  const ReportVerdict& verdict = report.verdict;
  if (verdict.time_to_detect_seconds) {
    out << "<p class=\"time-to-detect\">Time to detect: <strong>" << format_seconds(*verdict.time_to_detect_seconds)
        << "</strong> from the first injection to the first violated sample";
    if (!verdict.detected_by.empty()) {
      out << " of " << (verdict.detected_by_kind == "compare" ? "compare " : "") << "<em>"
          << escape_html(verdict.detected_by) << "</em>";
    }
    if (verdict.detected_at) out << " (" << format_timestamp(*verdict.detected_at) << ")";
    out << ", from Prometheus range data" << resolution_note(verdict) << "</p>\n";
  } else if (verdict.detect_source == "prometheus_range") {
    out << "<p class=\"time-to-detect\">Time to detect: none; no during-check or compare sample was violated "
           "while the faults were live</p>\n";
  }
}

void write_recovery(std::ostream& out, const Report& report) {
  const ReportVerdict& verdict = report.verdict;
  const bool from_range = verdict.recovery_source == "prometheus_range";
  out << "<section id=\"recovery\">\n<h2>Time to recovery</h2>\n<p class=\"time-to-recovery\">";
  if (verdict.time_to_recovery_seconds) {
    out << "<strong>" << format_seconds(*verdict.time_to_recovery_seconds) << "</strong>";
    if (verdict.last_revert_at && verdict.recovered_at) {
      out << " from the last revert (" << format_timestamp(*verdict.last_revert_at) << ") to "
          << (from_range ? "the first instant from which every after-check held to the end of the run ("
                         : "the first recovery check where every steady-state check held (")
          << format_timestamp(*verdict.recovered_at) << ")";
    }
    if (from_range) out << ", from Prometheus range data" << resolution_note(verdict);
    if (verdict.recovery_source == "recovery_checks") {
      out << ", from the recovery checks" << resolution_note(verdict) << " (Prometheus range data was unavailable)";
    }
    if (!report.experiment.recovery_within.empty()) {
      out << "; allowed: " << escape_html(report.experiment.recovery_within);
      if (!verdict.recovered) out << " <strong class=\"late\">(later than allowed)</strong>";
    }
  } else if (verdict.recovery_measured) {
    out << "<strong>did not recover</strong> within " << escape_html(report.experiment.recovery_within);
    if (from_range) {
      out << ": the after-checks never held from an instant after the last revert to the end of the run";
    }
  } else {
    out << "not measured (no [recovery] section, or the run ended before it)";
  }
  out << "</p>\n";
  write_detection(out, report);
  out << "</section>\n";
}

void write_chart(std::ostream& out, const ReportChart& chart, const ChartFrame& frame) {
  std::set<std::string> names;
  for (const auto& threshold : chart.thresholds) names.insert(threshold.name);
  std::string title;
  for (const auto& name : names) title += (title.empty() ? "" : " / ") + name;
  if (!chart.title.empty()) title = chart.title;
  out << "<figure class=\"chart\">\n<figcaption><span class=\"chart-title\">" << escape_html(title)
      << "</span><code class=\"query\">" << escape_html(chart.query) << "</code><span class=\"chart-source\">"
      << (chart.from_prometheus_range ? "Prometheus range query over the run; dots are the run's evaluations"
                                      : "the run's evaluations")
      << "</span>";
  if (!chart.error.empty()) out << "<span class=\"chart-error\">range query failed: " << escape_html(chart.error) << "</span>";
  out << "</figcaption>\n" << render_slo_chart(chart, frame);
  if (chart.series.size() > 1) {
    out << "<ul class=\"legend\">\n";
    for (size_t i = 0; i < chart.series.size(); ++i) {
      out << "<li class=\"series-" << i % 6 << "\">" << escape_html(chart.series[i].label) << "</li>\n";
    }
    out << "</ul>\n";
  }
  out << "</figure>\n";
}

void write_timeline(std::ostream& out, const Report& report) {
  const ChartFrame frame = chart_frame(report);
  out << "<section id=\"timeline\">\n<h2>SLO timeline</h2>\n<p class=\"note\">Shaded: fault windows "
         "(applied to reverted). Dashed vertical lines: phase boundaries. Horizontal lines: thresholds "
         "(orange dashed: abort conditions). Dots: the run's evaluations, red where a check failed or an "
         "abort condition fired.</p>\n";
  if (report.charts.empty()) out << "<p>The experiment has no steady-state checks or abort conditions.</p>\n";
  for (const auto& chart : report.charts) write_chart(out, chart, frame);
  out << "</section>\n";
}

// "verified" with the evidence and the gone check's evidence beneath: what
// the agent read back from the system, so a reader can trust both ends.
std::string effect_cell(const ReportFault& fault) {
  if (fault.effect.empty()) return "<span class=\"note\">not reported</span>";
  const bool doubtful = fault.effect == "unverified" || fault.effect == "not checked";
  std::string cell = doubtful ? "<strong>" + escape_html(fault.effect) + "</strong>" : escape_html(fault.effect);
  if (fault.effect == "armed") cell += " (no traffic yet)";
  if (!fault.evidence.empty()) cell += "<br><small>" + escape_html(fault.evidence) + "</small>";
  if (!fault.gone_evidence.empty()) cell += "<br><small>gone: " + escape_html(fault.gone_evidence) + "</small>";
  return cell;
}

std::string optional_milliseconds(const std::optional<double>& seconds) {
  if (!seconds) return "";
  std::ostringstream out;
  out << std::fixed << std::setprecision(1) << *seconds * 1000 << " ms";
  return out.str();
}

std::string counters_cell(const ReportFault& fault) {
  std::string cell;
  for (const auto& [name, value] : fault.counters) {
    std::ostringstream number;
    number << std::fixed << std::setprecision(0) << value;
    cell += (cell.empty() ? "" : "<br>") + escape_html(name) + " " + number.str();
  }
  return cell;
}

// The fault's kind, and beneath it each container it acted in ("in podman
// nats-1"; the id, pid and network namespace on hover). A host fault's cell
// is its kind alone.
std::string kind_cell(const ReportFault& fault) {
  std::string cell = escape_html(fault.kind);
  for (const auto& container : fault.containers) {
    std::string name = container.runtime + " " + (container.name.empty() ? container.id.substr(0, 12) : container.name);
    if (!container.pod_name.empty()) name += " (pod " + container.pod_namespace + "/" + container.pod_name + ")";
    const std::string where = "id " + container.id.substr(0, 12) + " pid " + std::to_string(container.pid) +
                              (container.network_namespace.empty() ? "" : " " + container.network_namespace);
    cell += "<br><small class=\"container\" title=\"" + escape_html(where) + "\">in " + escape_html(name) +
            "</small>";
  }
  return cell;
}

void write_faults(std::ostream& out, const Report& report) {
  out << "<section id=\"faults\">\n<h2>Faults</h2>\n";
  if (report.faults.empty()) out << "<p class=\"no-faults\">No fault was injected.</p>\n";
  std::map<std::string, std::vector<const ReportFault*>> by_agent;
  for (const auto& fault : report.faults) by_agent[fault.agent].push_back(&fault);
  for (const auto& [agent, faults] : by_agent) {
    out << "<h3>Agent <code>" << escape_html(agent) << "</code></h3>\n<table class=\"faults\">\n<tr><th>node</th>"
        << "<th>kind</th><th>backend</th><th>fault id</th><th>step</th><th>applied</th><th>expires</th>"
        << "<th>reverted</th><th>revert reason</th><th>effect</th><th>time to effect</th><th>time to gone</th>"
        << "<th>counters</th><th>detail</th></tr>\n";
    for (const ReportFault* fault : faults) {
      std::string ended_early;
      if (fault->ended_early) {
        ended_early = " <strong>(ended early" +
                      (fault->early_end_detail.empty() ? "" : ": " + escape_html(fault->early_end_detail)) +
                      ")</strong>";
      }
      out << "<tr class=\"fault" << (fault->ended_early ? " ended-early" : "") << "\"><td>"
          << escape_html(fault->node) << "</td><td>" << kind_cell(*fault)
          << "</td><td>" << escape_html(fault->backend) << "</td><td>" << escape_html(fault->fault_id)
          << "</td><td>" << escape_html(fault->step) << "</td><td>" << format_timestamp(fault->applied_at)
          << "</td><td>" << optional_time(fault->expires_at) << "</td><td>" << optional_time(fault->reverted_at)
          << "</td><td>" << escape_html(fault->revert_reason) << ended_early << "</td><td class=\"effect\">"
          << effect_cell(*fault) << "</td><td>" << optional_milliseconds(fault->time_to_effect_seconds)
          << "</td><td>" << optional_milliseconds(fault->time_to_gone_seconds) << "</td><td class=\"counters\">"
          << counters_cell(*fault) << "</td><td>" << escape_html(fault->detail) << "</td></tr>\n";
    }
    out << "</table>\n";
  }
  out << "</section>\n";
}

void write_events(std::ostream& out, const Report& report) {
  out << "<section id=\"events\">\n<h2>Events</h2>\n<table class=\"events\">\n<tr><th>time</th><th>type</th>"
         "<th>message</th></tr>\n";
  for (const auto& event : report.events) {
    out << "<tr class=\"event event-" << escape_html(event.type) << "\"><td>" << format_timestamp(event.time)
        << "</td><td>" << escape_html(event.type) << "</td><td>" << escape_html(event.message) << "</td></tr>\n";
  }
  out << "</table>\n</section>\n";
}

}  // namespace

ChartFrame chart_frame(const Report& report) {
  ChartFrame frame{report.started_at, report.finished_at, {}, {}};
  for (const auto& chart : report.charts) {
    for (const auto& series : chart.series) {
      for (const auto& point : series.points) {
        if (!std::isfinite(point.time)) continue;
        frame.start = std::min(frame.start, point.time);
        frame.end = std::max(frame.end, point.time);
      }
    }
  }
  for (const auto& fault : report.faults) {
    const double end = fault.reverted_at ? *fault.reverted_at : fault.expires_at ? *fault.expires_at : report.finished_at;
    frame.fault_windows.push_back({fault.applied_at, std::min(end, frame.end),
                                   fault.node + " " + fault.kind + " (" + fault.fault_id + ")"});
  }
  std::set<std::string> seen;
  for (const auto& event : report.events) {
    if (event.type != "phase") continue;
    const std::string label = phase_label(event.message);
    if (!label.empty() && seen.insert(label).second) frame.phases.push_back({event.time, label});
  }
  // The range-data instants, so a reader sees them against the series.
  if (report.verdict.detected_at) frame.phases.push_back({*report.verdict.detected_at, "detected"});
  if (report.verdict.recovered_at && report.verdict.recovery_source == "prometheus_range") {
    frame.phases.push_back({*report.verdict.recovered_at, "recovered"});
  }
  std::stable_sort(frame.phases.begin(), frame.phases.end(),
                   [](const PhaseMark& a, const PhaseMark& b) { return a.time < b.time; });
  return frame;
}

std::string render_report_html(const Report& report) {
  std::ostringstream out;
  out << "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      << "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n"
      << "<title>" << escape_html(report.verdict.result) << ": " << escape_html(report.experiment.title)
      << "</title>\n<style>\n" << kReportStyle << "</style>\n</head>\n<body>\n<header><h1>"
      << escape_html(report.experiment.title) << "</h1></header>\n<main>\n";
  write_verdict(out, report);
  write_finding(out, report);
  write_experiment(out, report);
  write_abort(out, report);
  write_recovery(out, report);
  write_timeline(out, report);
  write_faults(out, report);
  write_events(out, report);
  out << "</main>\n<footer>chaosctl run report, rendered from journal.json</footer>\n</body>\n</html>\n";
  return out.str();
}

}  // namespace chaos::orchestrator::report
