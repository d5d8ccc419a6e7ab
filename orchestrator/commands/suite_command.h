// `chaosctl run` with several experiments or a suite file: load every
// experiment first (a typo in the third must not surface after the first
// has run), run them as a SuiteRun, then write the suite's junit.xml and
// index.html next to the per-experiment report dirs.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>

#include "orchestrator/commands/experiment_runner.h"
#include "orchestrator/suite/suite.h"

namespace chaos::orchestrator {

struct SuiteCommandOptions {
  Suite suite;
  // chaosctl --inventory / --prometheus: win over the suite entries' and the
  // experiment files' own.
  std::optional<std::string> inventory;
  std::optional<std::string> prometheus;
  std::optional<bool> fail_fast;                           // --fail-fast / --keep-going
  std::optional<std::chrono::nanoseconds> settle_timeout;  // --settle-timeout
  std::string report_dir;
  bool dry_run = false;
  RunnerOptions runner;
  // Prints one run's verdict as a single `chaosctl run` does (text output).
  std::function<void(const RunRecord& record)> print_run;
};

// The exit code: the worst verdict; 3 when an experiment does not load.
int run_suite_command(const SuiteCommandOptions& options);

}  // namespace chaos::orchestrator
