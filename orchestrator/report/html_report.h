// report.html: one self-contained page (inline CSS and SVG, no scripts,
// fonts or other files, nothing fetched) rendered from a parsed journal.
// Every piece of journal text is HTML-escaped: experiment titles, queries
// and agent messages are user input. Stable ids for tests and links:
// #verdict, #finding, #experiment, #abort, #recovery, #timeline, #faults, #events.
#pragma once

#include <string>

#include "orchestrator/report/report_data.h"
#include "orchestrator/report/svg_chart.h"

namespace chaos::orchestrator::report {

// The time axis every chart shares: the run (and any range data before it),
// fault windows from applied_at to reverted_at (or expiry, or run end) and
// the phase boundaries from the journal's phase events.
ChartFrame chart_frame(const Report& report);

std::string render_report_html(const Report& report);

}  // namespace chaos::orchestrator::report
