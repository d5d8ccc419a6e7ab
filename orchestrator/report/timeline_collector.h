// The run's SLO timeline for report.html. The journal's evaluations are as
// sparse as the during interval and stop at the phase edges, so at the end
// of a run we ask Prometheus for each distinct check/abort query over the
// whole run (plus a lead-in) and keep the series in journal.json under the
// optional key "timeline". A failed range query is recorded, never fatal:
// the report then draws that query's evaluations.
#pragma once

#include <chrono>

#include <nlohmann/json.hpp>

#include "common/clock.h"
#include "orchestrator/experiment/experiment.h"
#include "orchestrator/clients/prometheus_client.h"

namespace chaos::orchestrator::report {

struct TimelineWindow {
  WallTime start;
  WallTime end;
  std::chrono::milliseconds step{1000};
};

// From run start minus a 30 s lead-in (the steady state just before the run)
// to the end; the step keeps each query under ~500 points and at least 1 s.
TimelineWindow timeline_window(WallTime run_started, WallTime run_finished);

// {"start", "end", "step_seconds", "queries": [{"query", "error",
//   "series": [{"labels": {...}, "points": [[unix_seconds, "text"], ...]}]}]}
nlohmann::json collect_timeline(const Experiment& experiment, PrometheusClient& prometheus,
                                const TimelineWindow& window);

}  // namespace chaos::orchestrator::report
