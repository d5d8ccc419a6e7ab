// journal.json: the complete record of a run (experiment, plan, events,
// every evaluation, every fault, verdict). report.html is rendered from it,
// so anything a reviewer may want later belongs in here.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "common/rfc3339.h"  // format_rfc3339: every time in journal.json
#include "common/status.h"
#include "orchestrator/experiment/experiment.h"
#include "orchestrator/run/fault_ledger.h"
#include "orchestrator/run/run_journal.h"
#include "orchestrator/run/run_outcome.h"

namespace chaos::orchestrator {

struct RunTimes {
  WallTime started;
  WallTime finished;
};

nlohmann::json experiment_to_json(const Experiment& experiment);
nlohmann::json journal_to_json(const Experiment& experiment, const RunIdentity& identity,
                               const RunJournal& journal, const RunOutcome& outcome, const RunTimes& times);

// Writes text to dir/name atomically (temp file + rename).
Status write_report_file(const std::string& dir, const std::string& name, const std::string& text);

}  // namespace chaos::orchestrator
