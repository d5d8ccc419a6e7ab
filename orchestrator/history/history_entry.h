// One run as the history database keeps it: what `chaosctl history` lists
// and `chaosctl report --history` charts. Built from the same pieces
// journal.json is (experiment, identity, journal, outcome, times), but
// reduced to what a trend over many runs needs: the verdict, the recovery
// figures, the worst value each SLO reached, the faults and the leftovers.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "orchestrator/experiment/experiment.h"
#include "orchestrator/run/journal_json.h"
#include "orchestrator/run/run_journal.h"
#include "orchestrator/run/run_outcome.h"

namespace chaos::orchestrator::history {

// The worst value one steady-state check saw during the run: the lowest for
// ">=" and ">", the highest for "<=" and "<", the farthest from the
// threshold for "==" and the closest for "!=".
struct SloWorst {
  std::string name;
  std::string query;
  std::string comparator;  // "<", "<=", ...
  double threshold = 0;
  double worst = 0;
  bool held = true;  // the worst value still satisfied the comparator
};

struct FaultSummary {
  std::string step, kind, node, agent, fault_id, revert_reason;
  double applied_at = 0;  // seconds since the epoch
  std::optional<double> reverted_at;
  bool ended_early = false;
};

struct HistoryEntry {
  std::string experiment_id;
  std::string title;
  std::string file_path;    // absolute, as loaded
  std::string file_sha256;  // hex; empty when the file could not be read again
  double started_at = 0;    // seconds since the epoch
  double finished_at = 0;
  std::string verdict;      // "held", "violated", "aborted", "error"
  int exit_code = 3;
  std::string reason;
  std::optional<double> time_to_recovery_seconds;
  std::optional<double> time_to_detect_seconds;
  std::string detected_by;       // the check that saw the fault first; empty when none did
  std::string detected_by_kind;  // "steady_state" or "compare"
  std::string report_dir;   // absolute; empty without --report-dir
  std::vector<SloWorst> slo_worst;
  std::vector<FaultSummary> faults;
  std::vector<std::string> leftovers;
};

// Longest text kept per field and most list items kept per run: a record
// never grows with what agents or Prometheus sent.
inline constexpr size_t kHistoryMaxText = 4096;
inline constexpr size_t kHistoryMaxItems = 200;

HistoryEntry make_history_entry(const Experiment& experiment, const RunIdentity& identity,
                                const RunJournal& journal, const RunOutcome& outcome, const RunTimes& times,
                                const std::string& report_dir);

// Worst value per steady-state check name over the journal's evaluations
// (abort conditions and evaluations without a finite value are skipped).
std::vector<SloWorst> worst_slo_values(const std::vector<EvaluationRecord>& evaluations);

// Hex SHA-256 of a file (at most 16 MiB); errors name the path.
StatusOr<std::string> sha256_file(const std::string& path);

}  // namespace chaos::orchestrator::history
