#include "orchestrator/report/timeline_collector.h"

#include <algorithm>
#include <set>

#include "orchestrator/run/journal_json.h"

namespace chaos::orchestrator::report {

namespace {

using nlohmann::json;

constexpr std::chrono::seconds kLeadIn{30};
constexpr long kMaxPoints = 500;

std::vector<std::string> distinct_queries(const Experiment& experiment) {
  std::vector<std::string> queries;
  std::set<std::string> seen;
  for (const auto& check : experiment.steady_state) {
    if (seen.insert(check.condition.query).second) queries.push_back(check.condition.query);
  }
  for (const auto& abort : experiment.aborts) {
    if (seen.insert(abort.condition.query).second) queries.push_back(abort.condition.query);
  }
  // Both sides of each [[compare]] check: the report draws them on one chart.
  for (const auto& check : experiment.compare) {
    for (const auto* query : {&check.faulted_query, &check.control_query}) {
      if (!query->empty() && seen.insert(*query).second) queries.push_back(*query);
    }
  }
  return queries;
}

json series_to_json(const Series& series) {
  json points = json::array();
  for (const auto& point : series.points) points.push_back(json::array({point.timestamp, point.text}));
  return {{"labels", series.labels}, {"points", points}};
}

}  // namespace

TimelineWindow timeline_window(WallTime run_started, WallTime run_finished) {
  const WallTime start = run_started - kLeadIn;
  const auto span = std::chrono::duration_cast<std::chrono::milliseconds>(run_finished - start);
  const long step_seconds = std::max(1L, static_cast<long>(span.count() / 1000 / kMaxPoints));
  return {start, run_finished, std::chrono::seconds(step_seconds)};
}

json collect_timeline(const Experiment& experiment, PrometheusClient& prometheus, const TimelineWindow& window) {
  json queries = json::array();
  std::string unreachable;  // once Prometheus is down, do not wait a timeout per query
  for (const auto& query : distinct_queries(experiment)) {
    json entry = {{"query", query}, {"error", unreachable}, {"series", json::array()}};
    if (!unreachable.empty()) {
      queries.push_back(entry);
      continue;
    }
    auto result = prometheus.range_query(query, window.start, window.end, window.step);
    if (!result.ok()) {
      entry["error"] = result.status().message();
      const StatusCode code = result.status().code();
      if (code == StatusCode::kUnavailable || code == StatusCode::kDeadlineExceeded) {
        unreachable = "not asked: " + result.status().message();
      }
    } else {
      for (const auto& series : result->series) entry["series"].push_back(series_to_json(series));
    }
    queries.push_back(entry);
  }
  return {{"start", format_rfc3339(window.start)}, {"end", format_rfc3339(window.end)},
          {"step_seconds", std::chrono::duration<double>(window.step).count()}, {"queries", queries}};
}

}  // namespace chaos::orchestrator::report
