// The run history: one SQLite file that every `chaosctl run` appends to and
// `chaosctl history` / `chaosctl report --history` read. Behind a narrow
// interface so commands are tested against a temp file and nothing else
// knows about SQL.
//
// Concurrency: each write is one IMMEDIATE transaction and every connection
// waits (busy timeout) for the others, so two chaosctl processes finishing
// at once both get their row in. Schema: PRAGMA user_version, migrated
// forward step by step on open (history_store.cc keeps the steps); a file
// from a newer chaosctl, a foreign SQLite database or a file that is not
// SQLite at all is an error that names the path.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "orchestrator/history/history_entry.h"

namespace chaos::orchestrator::history {

inline constexpr int kHistorySchemaVersion = 2;
inline constexpr size_t kHistoryMaxListed = 10000;

struct HistoryQuery {
  std::string experiment;     // a title or an experiment file path; empty: every run
  size_t limit = 20;          // the newest runs (at most kHistoryMaxListed)
  size_t per_experiment = 0;  // > 0: at most this many newest runs per title
};

class HistoryStore {
 public:
  virtual ~HistoryStore() = default;
  virtual Status record(const HistoryEntry& entry) = 0;
  // Newest first (by start time).
  virtual StatusOr<std::vector<HistoryEntry>> list(const HistoryQuery& query) = 0;
};

enum class HistoryOpenMode {
  kCreate,    // create the file (and its directory) when missing: recording
  kExisting,  // NotFound when missing; read-only (never migrates or writes): reading
};

struct HistoryOpenOptions {
  HistoryOpenMode mode = HistoryOpenMode::kCreate;
  // How long a connection waits for another one's transaction.
  std::chrono::milliseconds busy_timeout{10000};
};

StatusOr<std::unique_ptr<HistoryStore>> open_history_store(const std::string& path,
                                                           const HistoryOpenOptions& options = {});

// Where runs are recorded without --history: $CHAOSCTL_HISTORY, else
// $XDG_STATE_HOME/chaosctl/history.sqlite, else
// $HOME/.local/state/chaosctl/history.sqlite; nullopt when none is set.
std::optional<std::string> default_history_path();

}  // namespace chaos::orchestrator::history
