// Time to recovery and time to detect from Prometheus range data: pure
// functions from each check's range answer to instants on the query's grid.
// The run's own checks poll every during_interval and only after the method
// ends, so they date a recovery no better than the method's last wait step;
// the range data holds every instant Prometheus can evaluate.
//
// A check holds at a grid instant the way evaluate() judges an instant
// answer: the series with a sample there must exist (none: "no data", which
// never holds) and every one of them must satisfy the comparator (NaN never
// does).
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "orchestrator/clients/prometheus_client.h"
#include "orchestrator/experiment/experiment.h"

namespace chaos::orchestrator {

// Prometheus refuses a range query of more than 11,000 points per series;
// a longer window gets a coarser step (range_step_for). The margin also
// covers the compares' one extra instant before the first injection.
inline constexpr size_t kRecoveryTimingMaxPoints = 10'000;

// Every target was scraped at or after the returned time (seconds since the
// epoch): `up` is written at every scrape of every target, so the oldest of
// their latest timestamps says up to when Prometheus has every sample.
inline constexpr char kRecoveryTimingIngestedQuery[] = "min(timestamp(up))";

// The instants Prometheus evaluates a range query at: start, start + step,
// ... up to and including end. start is kept at millisecond precision, as
// the HTTP client sends it.
struct RangeGrid {
  WallTime start;
  std::chrono::milliseconds step{1000};
  size_t count = 0;
  WallTime at(size_t index) const { return start + step * static_cast<long long>(index); }
  std::chrono::milliseconds offset(size_t index) const { return step * static_cast<long long>(index); }
};

RangeGrid make_range_grid(WallTime start, WallTime end, std::chrono::milliseconds step);

// `wanted` (settings.recovery_step), or a whole multiple of it when `window`
// would need more than kRecoveryTimingMaxPoints instants.
std::chrono::milliseconds range_step_for(std::chrono::milliseconds wanted, std::chrono::nanoseconds window);

// The grid instant nearest a sample's timestamp (seconds since the epoch);
// none when it is off the grid by more than half a step at either end.
std::optional<size_t> grid_index_of(const RangeGrid& grid, double timestamp);

// One check's range answer.
struct CheckRange {
  Condition condition;
  QueryResult answer;
};

enum class GridState { kNoData, kHolds, kViolated };

// The check's state at each grid instant. A sample is placed at the nearest
// grid instant (servers that align their steps are off by less than a step).
std::vector<GridState> states_on_grid(const CheckRange& check, const RangeGrid& grid);

struct GridFinding {
  std::optional<size_t> index;  // the grid instant found, if any
  std::string check;            // the check that decided (see below)
  std::optional<size_t> check_index;  // where that check decided
};

// Recovery: the first grid instant from which every check holds at every
// instant up to the grid's end. `check` names the check that failed last
// (at check_index, just before `index`, or at the end when there is no
// `index`). No checks: the first instant. An empty grid: nothing.
GridFinding first_instant_holding_to_end(const std::vector<CheckRange>& checks, const RangeGrid& grid);

// Detection: the first grid instant where some check does not hold (a
// missing sample counts, as "no data" fails a run's check); `check` names it.
GridFinding first_violated_instant(const std::vector<CheckRange>& checks, const RangeGrid& grid);

// "3.0 s" (one decimal: the figures are multiples of a step of 100 ms or more).
std::string recovery_seconds_text(std::chrono::nanoseconds duration);
// "1 s", "500 ms", "1.5 s".
std::string recovery_resolution_text(std::chrono::nanoseconds resolution);

}  // namespace chaos::orchestrator
