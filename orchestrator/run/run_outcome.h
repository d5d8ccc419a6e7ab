// The verdict of a run and the exit code CI sees.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"

namespace chaos::orchestrator {

enum class Verdict { kHeld, kViolated, kAborted, kError };

// held -> 0, violated -> 1, aborted or interrupted -> 2, configuration or
// infrastructure error, or a fault that ended before its time -> 3.
int exit_code(Verdict verdict);
const char* verdict_name(Verdict verdict);

// A fault that ended on its agent before the run meant it to: its lease
// expired, the agent shut down or restarted, its engine failed, its target
// went away. The faults then did not run as designed, so the run never
// says "held".
struct EarlyEnd {
  std::string agent;
  std::string node;
  std::string fault_id;
  std::string kind;
  std::string reason;  // the agent's revert_reason ("lease", "shutdown", ...) or "missing"
  std::string detail;  // what the agent or the run knows about why
};
// "fault f1 (process.kill) on 10.0.0.1:9700 [n1] ended early: lease (...)"
std::string describe(const EarlyEnd& end);

struct RunOutcome {
  Verdict verdict = Verdict::kHeld;
  std::string reason;                      // one line for people
  std::vector<std::string> failed_checks;  // "publish success ratio [during]: 0.95 >= 0.99 failed"
  std::string aborted_by;                  // abort condition name, or "interrupted"
  bool recovery_measured = false;
  bool recovered = false;
  // From the last fault revert to the first instant from which every
  // after-check held to the end of the run, in Prometheus range data
  // (both instants are kept for the report); recovered: that came within
  // [recovery] within.
  std::optional<std::chrono::nanoseconds> time_to_recovery;
  std::optional<WallTime> last_revert_at;
  std::optional<WallTime> recovered_at;
  // "agent: why" for agents that never answered RevertAll, "agent: fault id
  // (kind) STATE: detail" for faults an agent could not revert.
  std::vector<std::string> unreverted;
  std::vector<EarlyEnd> ended_early;
  // The agents' leftover checks: our objects still on a node after the last
  // revert (the run is then an error), and changes other software made
  // meanwhile (reported, not held against the run).
  std::vector<std::string> leftovers;
  std::vector<std::string> foreign_changes;
  // Issue 17: time to detect (first injection to the first violated sample
  // of a during-check) and the resolution of the range-data figures (the
  // query step) that time_to_recovery and time_to_detect are measured at.
  std::optional<std::chrono::nanoseconds> time_to_detect;
  std::optional<WallTime> detected_at;
  // The check whose sample was violated first: its name and kind
  // ("steady_state" or "compare"); empty without a time_to_detect.
  std::string detected_by;
  std::string detected_by_kind;
  std::chrono::nanoseconds recovery_resolution{0};
  // false: Prometheus range data was unavailable, and time_to_recovery is
  // the first recovery check that passed (resolution: during_interval).
  bool recovery_from_range_data = false;
  // true: the during-checks' range data was read, so an absent
  // time_to_detect means no sample was violated (not "unknown").
  bool detection_from_range_data = false;
};

}  // namespace chaos::orchestrator
