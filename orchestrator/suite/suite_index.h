// index.html of a suite's report dir: one self-contained page (the run
// report's stylesheet, nothing fetched) with the suite verdict and one row
// per experiment: verdict, duration, time to recovery, and a link to its
// own report (NN-slug/report.html). Stable ids: #suite-verdict, #runs.
#pragma once

#include <string>

#include "orchestrator/suite/suite_run.h"

namespace chaos::orchestrator {

inline constexpr const char* kSuiteIndexFileName = "index.html";

std::string render_suite_index(const SuiteOutcome& outcome);

}  // namespace chaos::orchestrator
