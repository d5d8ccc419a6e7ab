// One SLO timeline chart as inline SVG: the query's series over the run,
// each condition's threshold, fault windows shaded and phase boundaries.
// Pure: the same data always gives the same markup. Stable classes for
// tests and styling: svg.slo-chart, rect.fault-window, line.threshold,
// line.phase-boundary, polyline.series, circle.evaluation.
#pragma once

#include <string>
#include <vector>

#include "orchestrator/report/report_data.h"

namespace chaos::orchestrator::report {

struct TimeWindow {
  double start = 0;
  double end = 0;
  std::string label;  // "n1 network.delay (f-3)"
};

struct PhaseMark {
  double time = 0;
  std::string label;  // "method", "revert", ...
};

// What every chart of one report shares: the time axis and its marks.
struct ChartFrame {
  double start = 0;
  double end = 0;
  std::vector<TimeWindow> fault_windows;
  std::vector<PhaseMark> phases;
  // Ticks as "11-23 09:15" (month-day) instead of "09:15:03": the run history's
  // trends span days.
  bool date_ticks = false;
};

std::string render_slo_chart(const ReportChart& chart, const ChartFrame& frame);

}  // namespace chaos::orchestrator::report
