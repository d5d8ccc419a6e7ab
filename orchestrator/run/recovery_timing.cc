#include "orchestrator/run/recovery_timing.h"

#include <cmath>
#include <cstdio>

#include "orchestrator/clients/slo_evaluator.h"

namespace chaos::orchestrator {

namespace {

using std::chrono::milliseconds;

long long recovery_epoch_ms(WallTime time) {
  return std::chrono::duration_cast<milliseconds>(time.time_since_epoch()).count();
}

}  // namespace

RangeGrid make_range_grid(WallTime start, WallTime end, milliseconds step) {
  RangeGrid grid;
  grid.start = WallTime(milliseconds(recovery_epoch_ms(start)));
  grid.step = step;
  const long long span = recovery_epoch_ms(end) - recovery_epoch_ms(grid.start);
  if (span < 0 || step.count() <= 0) return grid;
  grid.count = static_cast<size_t>(span / step.count()) + 1;
  return grid;
}

milliseconds range_step_for(milliseconds wanted, std::chrono::nanoseconds window) {
  if (wanted.count() <= 0) wanted = milliseconds(1000);
  const long long window_ms = std::chrono::duration_cast<milliseconds>(window).count();
  const long long most = static_cast<long long>(kRecoveryTimingMaxPoints) - 1;
  if (window_ms <= wanted.count() * most) return wanted;
  const long long factor = (window_ms + wanted.count() * most - 1) / (wanted.count() * most);
  return wanted * factor;
}

std::optional<size_t> grid_index_of(const RangeGrid& grid, double timestamp) {
  const long long step = grid.step.count();
  if (!std::isfinite(timestamp) || step <= 0) return std::nullopt;
  const long long offset = std::llround(timestamp * 1000.0) - recovery_epoch_ms(grid.start);
  if (offset < -step / 2) return std::nullopt;
  const long long index = (offset + step / 2) / step;
  if (index < 0 || static_cast<size_t>(index) >= grid.count) return std::nullopt;
  return static_cast<size_t>(index);
}

std::vector<GridState> states_on_grid(const CheckRange& check, const RangeGrid& grid) {
  std::vector<bool> seen(grid.count, false), failed(grid.count, false);
  for (const auto& series : check.answer.series) {
    for (const auto& point : series.points) {
      const auto index = grid_index_of(grid, point.timestamp);
      if (!index) continue;
      seen[*index] = true;
      if (!compare(point.value, check.condition.comparator, check.condition.threshold)) failed[*index] = true;
    }
  }
  std::vector<GridState> states(grid.count, GridState::kNoData);
  for (size_t i = 0; i < grid.count; ++i) {
    if (seen[i]) states[i] = failed[i] ? GridState::kViolated : GridState::kHolds;
  }
  return states;
}

GridFinding first_instant_holding_to_end(const std::vector<CheckRange>& checks, const RangeGrid& grid) {
  GridFinding finding;
  if (grid.count == 0) return finding;
  // Walk back from the end: each check's streak of instants where it holds;
  // the check whose streak starts latest failed last and decides.
  size_t first = 0;
  for (const auto& check : checks) {
    const auto states = states_on_grid(check, grid);
    size_t streak_start = grid.count;
    while (streak_start > 0 && states[streak_start - 1] == GridState::kHolds) --streak_start;
    if (streak_start > first) {
      first = streak_start;
      finding.check = check.condition.name;
      finding.check_index = streak_start - 1;
    }
  }
  if (first < grid.count) finding.index = first;
  return finding;
}

GridFinding first_violated_instant(const std::vector<CheckRange>& checks, const RangeGrid& grid) {
  GridFinding finding;
  for (const auto& check : checks) {
    const auto states = states_on_grid(check, grid);
    for (size_t i = 0; i < states.size(); ++i) {
      if (states[i] == GridState::kHolds) continue;
      if (!finding.index || i < *finding.index) {
        finding.index = i;
        finding.check = check.condition.name;
        finding.check_index = i;
      }
      break;
    }
  }
  return finding;
}

std::string recovery_seconds_text(std::chrono::nanoseconds duration) {
  char buffer[48];
  std::snprintf(buffer, sizeof buffer, "%.1f s", std::chrono::duration<double>(duration).count());
  return buffer;
}

std::string recovery_resolution_text(std::chrono::nanoseconds resolution) {
  const long long ms = std::chrono::duration_cast<milliseconds>(resolution).count();
  char buffer[48];
  if (ms < 1000) {
    std::snprintf(buffer, sizeof buffer, "%lld ms", ms);
  } else if (ms % 1000 == 0) {
    std::snprintf(buffer, sizeof buffer, "%lld s", ms / 1000);
  } else {
    std::snprintf(buffer, sizeof buffer, "%g s", static_cast<double>(ms) / 1000.0);
  }
  return buffer;
}

}  // namespace chaos::orchestrator
