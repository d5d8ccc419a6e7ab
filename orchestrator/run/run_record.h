// What one finished run leaves for its caller: a single `chaosctl run`
// prints it, a suite collects one per experiment (index, junit.xml), the
// "after each run" hooks record or announce it.
#pragma once

#include <string>

#include "common/status.h"
#include "orchestrator/experiment/experiment.h"
#include "orchestrator/run/journal_json.h"
#include "orchestrator/run/run_journal.h"
#include "orchestrator/run/run_outcome.h"

namespace chaos::orchestrator {

struct RunRecord {
  Experiment experiment;
  RunIdentity identity;
  RunOutcome outcome;
  RunTimes times{};
  std::string report_dir;  // empty: no report files were asked for
  // Not OK when the run could not start at all (no Prometheus client); the
  // outcome then says error with this message.
  Status started;
  // This run as one <testsuite> element, for a suite's junit.xml.
  std::string junit_testsuite;
};

// Runs one experiment and writes its reports to report_dir (when not
// empty). commands/experiment_runner.h is the real one; tests use fakes.
class ExperimentRunnerInterface {
 public:
  virtual ~ExperimentRunnerInterface() = default;
  virtual RunRecord run(const Experiment& experiment, const std::string& report_dir) = 0;
};

}  // namespace chaos::orchestrator
