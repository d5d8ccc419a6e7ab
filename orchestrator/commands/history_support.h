// The run history as the commands use it: `chaosctl run --history FILE |
// --no-history` records every run (history/history_store.h), `chaosctl
// history` lists runs and `chaosctl report --history` renders the trend page.
#pragma once

#include <optional>
#include <ostream>
#include <string>

#include <CLI/CLI.hpp>

#include "orchestrator/experiment/experiment.h"
#include "orchestrator/run/journal_json.h"
#include "orchestrator/run/run_journal.h"
#include "orchestrator/run/run_outcome.h"

namespace chaos::orchestrator {

struct HistoryFlags {
  std::string file;  // empty: history::default_history_path()
  bool off = false;
};

// `--history FILE` and `--no-history` on `chaosctl run`.
void add_history_flags(CLI::App& command, HistoryFlags& flags);

// The database to use: --history, else the default path; nullopt when off
// or when no default can be made (no HOME).
std::optional<std::string> history_path(const HistoryFlags& flags);

// Records the finished run. Never fails the run: a database that cannot be
// opened or written is one warning on `warnings`, and the verdict and exit
// code stay what they are.
void record_run_in_history(const HistoryFlags& flags, const Experiment& experiment, const RunIdentity& identity,
                           const RunJournal& journal, const RunOutcome& outcome, const RunTimes& times,
                           const std::string& report_dir, std::ostream& warnings);

// `chaosctl report --history`: the trend page of the database at `file`
// (empty: the default path) written to `output` (empty: history.html).
// Returns the exit code.
int render_history_report(const std::string& file, const std::string& output);

}  // namespace chaos::orchestrator
