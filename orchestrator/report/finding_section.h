// report.html's "Finding" section (issue 23), near the top: which check
// broke first, when (time and seconds after the first inject), by how much
// (value against threshold, as a difference and a ratio where meaningful)
// and the experiment's [finding] (observed, mechanism, remedy, remedied_by).
// Shown when the run was violated, and when it was aborted after a check
// had already broken. Stable id: #finding.
#pragma once

#include <optional>
#include <ostream>
#include <string>

#include "orchestrator/report/report_data.h"

namespace chaos::orchestrator::report {

// "-0.04 (0.96x the threshold)"-style margin; empty when value or threshold
// is not a finite number. The ratio is left out for == and != and for a zero
// threshold.
std::string violation_margin(const ReportFirstViolation& violation);

void write_finding(std::ostream& out, const Report& report);

}  // namespace chaos::orchestrator::report
