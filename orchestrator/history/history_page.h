// `chaosctl report --history`: one self-contained HTML page over the run
// history. Per experiment (by title): the verdicts over time, the time to
// recovery and the worst value of each SLO per run as trend charts (dots
// colored by verdict), and a table of the runs with links to their
// report.html. Same stylesheet and chart renderer as report.html; no
// scripts, nothing fetched. Pure: the same entries give the same page.
//
// Stable markup: section.experiment-history (one per title) holding
// svg.slo-chart charts, circle.evaluation.run-{held,violated,aborted,error},
// table.runs with a.report-link per run that has a report directory (or
// span.report-replaced when a later run wrote that directory again), and
// p.history-cap saying how many runs per experiment are shown at most.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "orchestrator/history/history_entry.h"

namespace chaos::orchestrator::history {

inline constexpr size_t kHistoryPageRunsPerExperiment = 200;
// SLO charts per experiment; further checks are listed, not charted.
inline constexpr size_t kHistoryPageChartsPerExperiment = 8;

struct HistoryPageOptions {
  std::string source;      // the database path, shown on the page
  double generated_at = 0;  // seconds since the epoch
  size_t runs_per_experiment = kHistoryPageRunsPerExperiment;
};

// `entries` newest first (HistoryStore::list with per_experiment set).
std::string render_history_page(const std::vector<HistoryEntry>& entries, const HistoryPageOptions& options);

}  // namespace chaos::orchestrator::history
