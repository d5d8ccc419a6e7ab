// The run report's data: what report.html shows, read from journal.json.
// Times are seconds since the epoch (double) so charts can place them
// directly. parse_report() accepts every chaos.journal/v1 journal, with or
// without the optional "timeline" key (older journals chart their
// evaluations instead of Prometheus range data).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/rfc3339.h"  // parse_rfc3339, for journal times
#include "common/status.h"

namespace chaos::orchestrator::report {

struct ReportPoint {
  double time = 0;
  double value = 0;  // NaN when the text is not a finite number
  std::string text;  // as Prometheus sent it: "0.5", "NaN", "+Inf"
};

struct ReportSeries {
  std::string label;  // "{node=\"n1\"}" or "" for a single unlabelled series
  std::vector<ReportPoint> points;
};

// One condition drawn on a chart: a steady-state check or an abort condition.
struct ReportThreshold {
  std::string name;
  std::string kind;  // "steady_state" or "abort"
  std::string comparator;
  double value = 0;
  std::vector<std::string> phases;
};

struct ReportEvaluation {
  double time = 0;
  std::string phase;
  std::string kind;
  std::string name;
  bool pass = false;
  bool has_data = false;
  double value = 0;  // NaN without a finite value
  std::string text;
  // Replaces the pass/fail class of its dot (the run history colors them
  // by verdict: "run-held", "run-violated", ...).
  std::string point_class{};
};

// One chart per distinct PromQL expression.
struct ReportChart {
  std::string query;
  std::vector<ReportThreshold> thresholds;
  std::vector<ReportSeries> series;  // from the timeline, else from evaluations
  std::vector<ReportEvaluation> evaluations;
  bool from_prometheus_range = false;
  std::string error;  // the range query's error, if it failed
  // A [[compare]] chart: its caption (the check's name and tolerance) and
  // two series, faulted and control (compare_chart.h).
  std::string title{};  // {} keeps 6-field init valid
};

// journal.json faults[].containers[]: where a container fault acted.
struct ReportContainer {
  std::string runtime, id, name, network_namespace, pod_namespace, pod_name;
  int pid = 0;
};

struct ReportFault {
  std::string step, agent, node, fault_id, kind, backend, detail, revert_reason;
  double applied_at = 0;
  std::optional<double> expires_at;
  std::optional<double> reverted_at;
  bool ended_early = false;  // its agent ended it before its time
  std::string early_end_detail;
  // The agent's proof (journal.json; empty in journals of older runs).
  std::string effect, evidence, gone_evidence;
  std::optional<double> time_to_effect_seconds;
  std::optional<double> time_to_gone_seconds;
  std::vector<std::pair<std::string, double>> counters;
  std::vector<ReportContainer> containers;  // empty for a fault on its agent's host
};

// verdict.ended_early[]: a fault that ended on its agent before its time.
struct ReportEarlyEnd {
  std::string agent, node, fault_id, kind, reason, detail;
};

struct ReportEvent {
  double time = 0;
  std::string type;
  std::string message;
};

// verdict.first_violation (issue 23; absent in older journals): the check
// that broke first. Numbers are absent when the journal holds null (NaN,
// Inf, no data).
struct ReportFirstViolation {
  std::string name, phase, kind, query, comparator, value_text, error, summary;
  std::optional<double> threshold;
  std::optional<double> value;
  double at = 0;
  std::optional<double> seconds_after_inject;
};

// experiment.finding (issue 23): the weakness the experiment demonstrates.
struct ReportFinding {
  std::string observed, mechanism, remedy, remedied_by;
};

struct ReportVerdict {
  std::string result;  // "held", "violated", "aborted", "error"
  int exit_code = 3;
  std::string reason;
  std::vector<std::string> failed_checks;
  std::string aborted_by;
  bool recovery_measured = false;
  bool recovered = false;
  std::optional<double> time_to_recovery_seconds;
  std::optional<double> last_revert_at;
  std::optional<double> recovered_at;
  std::vector<std::string> unreverted;
  std::vector<ReportEarlyEnd> ended_early;
  std::vector<std::string> leftovers;        // our objects left after every revert
  std::vector<std::string> foreign_changes;  // changes other software made meanwhile
  // Issue 17 (absent in older journals): time to detect, and the step of the
  // range data both figures were read at; recovery_source "prometheus_range"
  // or "recovery_checks" (range data unavailable).
  std::optional<double> time_to_detect_seconds;
  std::optional<double> detected_at;
  // The check violated first (verdict.detected_by; empty in older journals)
  // and its kind, "steady_state" or "compare".
  std::string detected_by;
  std::string detected_by_kind;
  std::optional<double> recovery_resolution_seconds;
  std::string recovery_source;
  // "prometheus_range" when the during-checks' range data was read: only
  // then does a missing time to detect mean "nothing was violated".
  std::string detect_source;
  std::optional<ReportFirstViolation> first_violation{};
};

struct ReportExperiment {
  std::string title, description, hypothesis, source;
  std::vector<std::string> tags;
  std::string recovery_within;
  std::optional<ReportFinding> finding{};  // {} keeps 6-field init valid
};

struct Report {
  ReportExperiment experiment;
  std::string experiment_id;
  double started_at = 0;
  double finished_at = 0;
  ReportVerdict verdict;
  std::vector<ReportChart> charts;
  std::vector<ReportFault> faults;
  std::vector<ReportEvent> events;
};

// Errors name the JSON path: "verdict.result: missing".
StatusOr<Report> parse_report(const nlohmann::json& journal);

}  // namespace chaos::orchestrator::report
