// Time to detect for [[compare]] checks: each side's range answer over the
// detection grid, judged at every instant the way evaluate_compare() judges
// two instant answers (one series a side with a sample there, a finite
// difference below the tolerance). A compare that fails while the faults
// are live fails the hypothesis like a during-check, so it is a violated
// sample too.
#pragma once

#include <vector>

#include "common/status.h"
#include "orchestrator/clients/prometheus_client.h"
#include "orchestrator/experiment/experiment.h"
#include "orchestrator/run/recovery_timing.h"

namespace chaos::orchestrator {

struct CompareRange {
  CompareCheck check;
  QueryResult faulted;
  QueryResult control;
};

// Both sides of every compare that applies to `phase`, over the grid; an
// error names the compare and the side's query.
StatusOr<std::vector<CompareRange>> query_compare_ranges(const Experiment& experiment, Phase phase,
                                                         PrometheusClient& prometheus, const RangeGrid& grid);

// Whether the compare holds at each grid instant.
std::vector<bool> compare_holds_on_grid(const CompareRange& range, const RangeGrid& grid);

// The first grid instant where some compare does not hold; `check` names it.
GridFinding first_violated_compare_instant(const std::vector<CompareRange>& ranges, const RangeGrid& grid);

// `grid` with one more instant in front: the step before the first
// injection, where a compare that fails was failing before the fault.
RangeGrid compare_grid_with_instant_before(const RangeGrid& grid);

struct CompareDetection {
  GridFinding finding;  // an index on the detection grid (without the instant before)
  std::vector<std::string> violated_before;  // compares already failing the step before the fault
};

// Detection by compares over `lead_grid` (compare_grid_with_instant_before
// of the detection grid): a compare that does not hold at the instant
// before the fault gives no time to detect (the gap is not the fault's);
// the others as first_violated_compare_instant(), indices on the detection
// grid.
CompareDetection first_violated_compare_after_fault(const std::vector<CompareRange>& ranges,
                                                    const RangeGrid& lead_grid);

}  // namespace chaos::orchestrator
