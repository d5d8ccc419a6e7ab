// The report's [[compare]] charts: one per check, its faulted and control
// series on the same axes. From the timeline's range data when the run
// collected it (experiment.compare[].faulted_query/control_query), else
// from the run's compare evaluations. Journals without "compare" get none.
#pragma once

#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"
#include "orchestrator/report/report_data.h"

namespace chaos::orchestrator::report {

// Appends the charts; a field of the wrong type sets `status` (the first
// error wins) naming its JSON path.
void add_compare_charts(const nlohmann::json& journal, std::vector<ReportChart>& charts, Status& status);

}  // namespace chaos::orchestrator::report
