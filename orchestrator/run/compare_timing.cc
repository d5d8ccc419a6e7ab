#include "orchestrator/run/compare_timing.h"

#include "orchestrator/run/compare_check.h"

namespace chaos::orchestrator {

namespace {

// The instant answers a side would have given at each grid instant: every
// series with a sample there, that sample alone.
std::vector<QueryResult> compare_timing_instants(const QueryResult& answer, const RangeGrid& grid) {
  std::vector<QueryResult> instants(grid.count);
  for (const auto& series : answer.series) {
    for (const auto& point : series.points) {
      const auto index = grid_index_of(grid, point.timestamp);
      if (!index) continue;
      std::vector<Series>& at = instants[*index].series;
      if (!at.empty() && at.back().labels == series.labels) {
        at.back().points = {point};  // two samples of one series on one instant: the later one
        continue;
      }
      at.push_back(Series{series.labels, {point}});
    }
  }
  return instants;
}

}  // namespace

StatusOr<std::vector<CompareRange>> query_compare_ranges(const Experiment& experiment, Phase phase,
                                                         PrometheusClient& prometheus, const RangeGrid& grid) {
  std::vector<CompareRange> ranges;
  if (grid.count == 0) return ranges;
  const WallTime end = grid.at(grid.count - 1);
  const auto side = [&](const CompareCheck& check, const std::string& query,
                        const char* name) -> StatusOr<QueryResult> {
    auto answer = prometheus.range_query(query, grid.start, end, grid.step);
    if (answer.ok()) return answer;
    return Status(answer.status().code(), "range query of compare '" + check.name + "' (" + name + " side: " +
                                              query + ") failed: " + answer.status().message());
  };
  for (const auto& check : experiment.compare) {
    if (!check.applies_to(phase)) continue;
    CHAOS_ASSIGN_OR_RETURN(auto faulted, side(check, check.faulted_query, "faulted"));
    CHAOS_ASSIGN_OR_RETURN(auto control, side(check, check.control_query, "control"));
    ranges.push_back({check, std::move(faulted), std::move(control)});
  }
  return ranges;
}

std::vector<bool> compare_holds_on_grid(const CompareRange& range, const RangeGrid& grid) {
  const auto faulted = compare_timing_instants(range.faulted, grid);
  const auto control = compare_timing_instants(range.control, grid);
  std::vector<bool> holds(grid.count, false);
  for (size_t i = 0; i < grid.count; ++i) {
    holds[i] = evaluate_compare(range.check, faulted[i], control[i]).evaluation.holds;
  }
  return holds;
}

GridFinding first_violated_compare_instant(const std::vector<CompareRange>& ranges, const RangeGrid& grid) {
  GridFinding finding;
  for (const auto& range : ranges) {
    const auto holds = compare_holds_on_grid(range, grid);
    for (size_t i = 0; i < holds.size() && (!finding.index || i < *finding.index); ++i) {
      if (holds[i]) continue;
      finding.index = i;
      finding.check = range.check.name;
      finding.check_index = i;
      break;
    }
  }
  return finding;
}

RangeGrid compare_grid_with_instant_before(const RangeGrid& grid) {
  RangeGrid lead = grid;
  if (grid.count == 0) return lead;
  lead.start = grid.start - grid.step;
  lead.count = grid.count + 1;
  return lead;
}

CompareDetection first_violated_compare_after_fault(const std::vector<CompareRange>& ranges,
                                                    const RangeGrid& lead_grid) {
  CompareDetection detection;
  GridFinding& finding = detection.finding;
  for (const auto& range : ranges) {
    const auto holds = compare_holds_on_grid(range, lead_grid);
    if (holds.empty()) continue;
    if (!holds.front()) {
      detection.violated_before.push_back(range.check.name);
      continue;
    }
    for (size_t i = 1; i < holds.size() && (!finding.index || i - 1 < *finding.index); ++i) {
      if (holds[i]) continue;
      finding.index = i - 1;
      finding.check = range.check.name;
      finding.check_index = i - 1;
      break;
    }
  }
  return detection;
}

}  // namespace chaos::orchestrator
