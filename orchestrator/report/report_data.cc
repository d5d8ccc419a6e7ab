#include "orchestrator/report/report_data.h"

#include "orchestrator/report/compare_chart.h"

#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <limits>
#include <map>

namespace chaos::orchestrator::report {

namespace {

using nlohmann::json;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Field readers: a missing optional field gets the default, a field of the
// wrong type is an error naming its path.
std::string text_field(const json& object, const char* key, const std::string& path, Status& status) {
  if (!object.is_object() || !object.contains(key) || object[key].is_null()) return "";
  if (!object[key].is_string()) {
    if (status.ok()) status = invalid_argument(path + "." + key + ": expected a string");
    return "";
  }
  return object[key].get<std::string>();
}

std::optional<double> time_field(const json& object, const char* key, const std::string& path, Status& status) {
  const std::string text = text_field(object, key, path, status);
  if (text.empty()) return std::nullopt;
  auto time = parse_rfc3339(text);
  if (!time && status.ok()) status = invalid_argument(path + "." + key + ": '" + text + "' is not an RFC 3339 time");
  return time;
}

std::optional<double> number_field(const json& object, const char* key) {
  if (!object.is_object() || !object.contains(key) || !object[key].is_number()) return std::nullopt;
  return object[key].get<double>();
}

bool bool_field(const json& object, const char* key) {
  return object.is_object() && object.contains(key) && object[key].is_boolean() && object[key].get<bool>();
}

std::vector<std::string> strings_field(const json& object, const char* key) {
  std::vector<std::string> values;
  if (!object.is_object() || !object.contains(key) || !object[key].is_array()) return values;
  for (const auto& item : object[key]) {
    if (item.is_string()) values.push_back(item.get<std::string>());
  }
  return values;
}

const json& array_field(const json& object, const char* key) {
  static const json empty = json::array();
  if (!object.is_object() || !object.contains(key) || !object[key].is_array()) return empty;
  return object[key];
}

double value_of(const std::string& text) {
  if (text.empty()) return kNaN;
  char* end = nullptr;
  const double value = std::strtod(text.c_str(), &end);
  return end != text.c_str() && *end == '\0' && std::isfinite(value) ? value : kNaN;
}

ReportExperiment parse_experiment(const json& experiment, Status& status) {
  ReportExperiment result;
  result.title = text_field(experiment, "title", "experiment", status);
  result.description = text_field(experiment, "description", "experiment", status);
  result.hypothesis = text_field(experiment, "hypothesis", "experiment", status);
  result.source = text_field(experiment, "source", "experiment", status);
  result.recovery_within = text_field(experiment, "recovery_within", "experiment", status);
  result.tags = strings_field(experiment, "tags");
  if (experiment.contains("finding") && !experiment["finding"].is_null() && !experiment["finding"].is_object() &&
      status.ok()) {
    status = invalid_argument("experiment.finding: expected an object or null");
  }
  if (experiment.contains("finding") && experiment["finding"].is_object()) {
    const json& finding = experiment["finding"];
    const std::string path = "experiment.finding";
    result.finding = ReportFinding{text_field(finding, "observed", path, status),
                                   text_field(finding, "mechanism", path, status),
                                   text_field(finding, "remedy", path, status),
                                   text_field(finding, "remedied_by", path, status)};
  }
  return result;
}

std::optional<ReportFirstViolation> parse_first_violation(const json& verdict, Status& status) {
  if (!verdict.contains("first_violation") || verdict["first_violation"].is_null()) return std::nullopt;
  if (!verdict["first_violation"].is_object()) {
    if (status.ok()) status = invalid_argument("verdict.first_violation: expected an object or null");
    return std::nullopt;
  }
  const json& item = verdict["first_violation"];
  const std::string path = "verdict.first_violation";
  ReportFirstViolation violation;
  violation.name = text_field(item, "name", path, status);
  violation.phase = text_field(item, "phase", path, status);
  violation.kind = text_field(item, "kind", path, status);
  violation.query = text_field(item, "query", path, status);
  violation.comparator = text_field(item, "comparator", path, status);
  violation.value_text = text_field(item, "value_text", path, status);
  violation.error = text_field(item, "error", path, status);
  violation.summary = text_field(item, "summary", path, status);
  violation.threshold = number_field(item, "threshold");
  violation.value = number_field(item, "value");
  violation.at = time_field(item, "at", path, status).value_or(0);
  violation.seconds_after_inject = number_field(item, "seconds_after_inject");
  return violation;
}

ReportVerdict parse_verdict(const json& verdict, Status& status) {
  ReportVerdict result;
  result.result = text_field(verdict, "result", "verdict", status);
  if (result.result.empty() && status.ok()) status = invalid_argument("verdict.result: missing");
  result.exit_code = static_cast<int>(number_field(verdict, "exit_code").value_or(3));
  result.reason = text_field(verdict, "reason", "verdict", status);
  result.failed_checks = strings_field(verdict, "failed_checks");
  result.aborted_by = text_field(verdict, "aborted_by", "verdict", status);
  result.recovery_measured = bool_field(verdict, "recovery_measured");
  result.recovered = bool_field(verdict, "recovered");
  result.time_to_recovery_seconds = number_field(verdict, "time_to_recovery_seconds");
  result.last_revert_at = time_field(verdict, "last_revert_at", "verdict", status);
  result.recovered_at = time_field(verdict, "recovered_at", "verdict", status);
  result.unreverted = strings_field(verdict, "unreverted");
  result.leftovers = strings_field(verdict, "leftovers");
  result.foreign_changes = strings_field(verdict, "foreign_changes");
  result.time_to_detect_seconds = number_field(verdict, "time_to_detect_seconds");
  result.detected_at = time_field(verdict, "detected_at", "verdict", status);
  if (verdict.contains("detected_by") && !verdict["detected_by"].is_null() && !verdict["detected_by"].is_object() &&
      status.ok()) {
    status = invalid_argument("verdict.detected_by: expected an object (name, kind) or null");
  }
  if (verdict.contains("detected_by") && verdict["detected_by"].is_object()) {
    result.detected_by = text_field(verdict["detected_by"], "name", "verdict.detected_by", status);
    result.detected_by_kind = text_field(verdict["detected_by"], "kind", "verdict.detected_by", status);
  }
  result.recovery_resolution_seconds = number_field(verdict, "recovery_resolution_seconds");
  result.recovery_source = text_field(verdict, "recovery_source", "verdict", status);
  result.detect_source = text_field(verdict, "detect_source", "verdict", status);
  result.first_violation = parse_first_violation(verdict, status);
  const json& ended_early = array_field(verdict, "ended_early");
  for (size_t i = 0; i < ended_early.size(); ++i) {
    const std::string path = "verdict.ended_early[" + std::to_string(i) + "]";
    const json& item = ended_early[i];
    result.ended_early.push_back({text_field(item, "agent", path, status), text_field(item, "node", path, status),
                                  text_field(item, "fault_id", path, status), text_field(item, "kind", path, status),
                                  text_field(item, "reason", path, status), text_field(item, "detail", path, status)});
  }
  return result;
}

ReportThreshold parse_condition(const json& condition, const std::string& kind, const std::string& path,
                                Status& status) {
  ReportThreshold threshold;
  threshold.name = text_field(condition, "name", path, status);
  threshold.kind = kind;
  threshold.comparator = text_field(condition, "comparator", path, status);
  threshold.value = number_field(condition, "threshold").value_or(kNaN);
  threshold.phases = kind == "abort" ? std::vector<std::string>{"during"} : strings_field(condition, "phases");
  return threshold;
}

// One chart per distinct query, in the order the experiment lists them.
std::vector<ReportChart> charts_from_conditions(const json& experiment, Status& status) {
  std::vector<ReportChart> charts;
  std::map<std::string, size_t> index;
  auto add = [&](const json& condition, const std::string& kind, const std::string& path) {
    const std::string query = text_field(condition, "query", path, status);
    auto [it, inserted] = index.emplace(query, charts.size());
    if (inserted) charts.push_back({query, {}, {}, {}, false, ""});
    charts[it->second].thresholds.push_back(parse_condition(condition, kind, path, status));
  };
  const json& checks = array_field(experiment, "steady_state");
  for (size_t i = 0; i < checks.size(); ++i) add(checks[i], "steady_state", "experiment.steady_state[" + std::to_string(i) + "]");
  const json& aborts = array_field(experiment, "abort");
  for (size_t i = 0; i < aborts.size(); ++i) add(aborts[i], "abort", "experiment.abort[" + std::to_string(i) + "]");
  return charts;
}

void add_evaluations(const json& evaluations, std::vector<ReportChart>& charts, Status& status) {
  for (size_t i = 0; i < evaluations.size(); ++i) {
    const json& item = evaluations[i];
    const std::string path = "evaluations[" + std::to_string(i) + "]";
    ReportEvaluation evaluation;
    evaluation.time = time_field(item, "at", path, status).value_or(kNaN);
    evaluation.phase = text_field(item, "phase", path, status);
    evaluation.kind = text_field(item, "kind", path, status);
    evaluation.name = text_field(item, "name", path, status);
    evaluation.pass = bool_field(item, "pass");
    evaluation.has_data = bool_field(item, "has_data");
    evaluation.text = text_field(item, "value_text", path, status);
    evaluation.value = number_field(item, "value").value_or(value_of(evaluation.text));
    const std::string query = text_field(item, "query", path, status);
    for (auto& chart : charts) {
      if (chart.query == query) chart.evaluations.push_back(evaluation);
    }
  }
}

// "timeline": {"queries": [{"query", "error", "series": [{"labels", "points": [[t, "text"]]}]}]}
void add_timeline(const json& timeline, std::vector<ReportChart>& charts) {
  for (const auto& entry : array_field(timeline, "queries")) {
    if (!entry.is_object() || !entry.contains("query") || !entry["query"].is_string()) continue;
    for (auto& chart : charts) {
      if (chart.query != entry["query"].get<std::string>()) continue;
      chart.from_prometheus_range = true;
      if (entry.contains("error") && entry["error"].is_string()) chart.error = entry["error"].get<std::string>();
      for (const auto& series : array_field(entry, "series")) {
        ReportSeries parsed;
        if (series.contains("labels") && series["labels"].is_object() && !series["labels"].empty()) {
          parsed.label = series["labels"].dump();
        }
        for (const auto& point : array_field(series, "points")) {
          if (!point.is_array() || point.size() != 2 || !point[0].is_number() || !point[1].is_string()) continue;
          const std::string text = point[1].get<std::string>();
          parsed.points.push_back({point[0].get<double>(), value_of(text), text});
        }
        chart.series.push_back(std::move(parsed));
      }
    }
  }
}

// Without range data the chart draws the evaluations as its series.
void series_from_evaluations(ReportChart& chart) {
  if (chart.from_prometheus_range) return;
  ReportSeries series;
  for (const auto& evaluation : chart.evaluations) {
    if (evaluation.kind == "abort" && chart.thresholds.front().kind != "abort") continue;
    series.points.push_back({evaluation.time, evaluation.has_data ? evaluation.value : kNaN, evaluation.text});
  }
  chart.series.push_back(std::move(series));
}

std::vector<ReportFault> parse_faults(const json& faults, Status& status) {
  std::vector<ReportFault> result;
  for (size_t i = 0; i < faults.size(); ++i) {
    const json& item = faults[i];
    const std::string path = "faults[" + std::to_string(i) + "]";
    ReportFault fault;
    fault.step = text_field(item, "step", path, status);
    fault.agent = text_field(item, "agent", path, status);
    fault.node = text_field(item, "node", path, status);
    fault.fault_id = text_field(item, "fault_id", path, status);
    fault.kind = text_field(item, "kind", path, status);
    fault.backend = text_field(item, "backend", path, status);
    fault.detail = text_field(item, "detail", path, status);
    fault.revert_reason = text_field(item, "revert_reason", path, status);
    fault.applied_at = time_field(item, "applied_at", path, status).value_or(kNaN);
    fault.expires_at = time_field(item, "expires_at", path, status);
    fault.reverted_at = time_field(item, "reverted_at", path, status);
    fault.ended_early = bool_field(item, "ended_early");
    fault.early_end_detail = text_field(item, "early_end_detail", path, status);
    // Proof fields are optional: journals of runs before effect checks lack them.
    if (item.contains("effect")) fault.effect = text_field(item, "effect", path, status);
    if (item.contains("evidence")) fault.evidence = text_field(item, "evidence", path, status);
    if (item.contains("gone_evidence")) fault.gone_evidence = text_field(item, "gone_evidence", path, status);
    fault.time_to_effect_seconds = number_field(item, "time_to_effect_seconds");
    fault.time_to_gone_seconds = number_field(item, "time_to_gone_seconds");
    if (const auto counters = item.find("counters"); counters != item.end() && counters->is_object()) {
      for (const auto& [name, value] : counters->items()) {
        if (value.is_number()) fault.counters.emplace_back(name, value.get<double>());
      }
    }
    const json& containers = array_field(item, "containers");
    for (size_t c = 0; c < containers.size(); ++c) {
      const json& entry = containers[c];
      const std::string at = path + ".containers[" + std::to_string(c) + "]";
      ReportContainer container;
      container.runtime = text_field(entry, "runtime", at, status);
      container.id = text_field(entry, "id", at, status);
      container.name = text_field(entry, "name", at, status);
      container.network_namespace = text_field(entry, "network_namespace", at, status);
      container.pod_namespace = text_field(entry, "pod_namespace", at, status);
      container.pod_name = text_field(entry, "pod_name", at, status);
      container.pid = static_cast<int>(number_field(entry, "pid").value_or(0));
      fault.containers.push_back(std::move(container));
    }
    result.push_back(std::move(fault));
  }
  return result;
}

std::vector<ReportEvent> parse_events(const json& events, Status& status) {
  std::vector<ReportEvent> result;
  for (size_t i = 0; i < events.size(); ++i) {
    const std::string path = "events[" + std::to_string(i) + "]";
    result.push_back({time_field(events[i], "at", path, status).value_or(kNaN),
                      text_field(events[i], "type", path, status), text_field(events[i], "message", path, status)});
  }
  return result;
}

Status require_object(const json& journal, const char* key) {
  if (!journal.contains(key)) return invalid_argument(std::string(key) + ": missing");
  if (!journal[key].is_object()) return invalid_argument(std::string(key) + ": expected an object");
  return {};
}

}  // namespace

StatusOr<Report> parse_report(const json& journal) {
  if (!journal.is_object()) return invalid_argument("the journal is not a JSON object");
  const auto schema = journal.find("schema");
  if (schema != journal.end() && !schema->is_string()) {
    return invalid_argument(std::string("schema: expected 'chaos.journal/v1', found a ") + schema->type_name());
  }
  const std::string name = schema == journal.end() ? "" : schema->get<std::string>();
  if (name.rfind("chaos.journal/v1", 0) != 0) {
    return invalid_argument("schema: expected 'chaos.journal/v1', found '" + name + "'");
  }
  for (const char* key : {"experiment", "run", "verdict"}) CHAOS_RETURN_IF_ERROR(require_object(journal, key));
  Status status;
  Report report;
  report.experiment = parse_experiment(journal["experiment"], status);
  report.experiment_id = text_field(journal["run"], "experiment_id", "run", status);
  const auto started = time_field(journal["run"], "started_at", "run", status);
  const auto finished = time_field(journal["run"], "finished_at", "run", status);
  if (status.ok() && (!started || !finished)) return invalid_argument("run.started_at/finished_at: missing");
  report.started_at = started.value_or(0);
  report.finished_at = finished.value_or(0);
  report.verdict = parse_verdict(journal["verdict"], status);
  report.charts = charts_from_conditions(journal["experiment"], status);
  add_evaluations(array_field(journal, "evaluations"), report.charts, status);
  if (journal.contains("timeline")) add_timeline(journal["timeline"], report.charts);
  for (auto& chart : report.charts) series_from_evaluations(chart);
  add_compare_charts(journal, report.charts, status);
  report.faults = parse_faults(array_field(journal, "faults"), status);
  report.events = parse_events(array_field(journal, "events"), status);
  if (!status.ok()) return status;
  return report;
}

}  // namespace chaos::orchestrator::report
