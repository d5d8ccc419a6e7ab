#include "orchestrator/commands/history_support.h"

#include <exception>

#include "orchestrator/history/history_entry.h"
#include "orchestrator/history/history_store.h"

namespace chaos::orchestrator {

void add_history_flags(CLI::App& command, HistoryFlags& flags) {
  auto* file = command.add_option("--history", flags.file,
                                  "Record the run in this SQLite file (default: $CHAOSCTL_HISTORY, else "
                                  "$XDG_STATE_HOME/chaosctl/history.sqlite, else "
                                  "~/.local/state/chaosctl/history.sqlite)");
  command.add_flag("--no-history", flags.off, "Do not record the run in the history database")->excludes(file);
}

std::optional<std::string> history_path(const HistoryFlags& flags) {
  if (flags.off) return std::nullopt;
  if (!flags.file.empty()) return flags.file;
  return history::default_history_path();
}

void record_run_in_history(const HistoryFlags& flags, const Experiment& experiment, const RunIdentity& identity,
                           const RunJournal& journal, const RunOutcome& outcome, const RunTimes& times,
                           const std::string& report_dir, std::ostream& warnings) {
  if (flags.off) return;
  const auto path = history_path(flags);
  if (!path) {
    warnings << "chaosctl: warning: run not recorded in the history: no --history and neither "
                "CHAOSCTL_HISTORY, XDG_STATE_HOME nor HOME is set\n";
    return;
  }
  Status status;
  try {
    auto store = history::open_history_store(*path);
    status = store.ok() ? Status() : store.status();
    if (status.ok()) {
      status =
          (*store)->record(history::make_history_entry(experiment, identity, journal, outcome, times, report_dir));
    }
  } catch (const std::exception& error) {  // the run is over; nothing here may change its exit code
    status = internal_error(*path + ": " + error.what());
  }
  if (!status.ok()) {
    warnings << "chaosctl: warning: run not recorded in the history (the verdict stands): " << status.message()
             << "\n";
  }
}

}  // namespace chaos::orchestrator
