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
// infrastructure error -> 3.
int exit_code(Verdict verdict);
const char* verdict_name(Verdict verdict);

struct RunOutcome {
  Verdict verdict = Verdict::kHeld;
  std::string reason;                      // one line for people
  std::vector<std::string> failed_checks;  // "publish success ratio [during]: 0.95 >= 0.99 failed"
  std::string aborted_by;                  // abort condition name, or "interrupted"
  bool recovery_measured = false;
  bool recovered = false;
  // From the last fault revert to the first recovery check where every
  // after-check held (both instants are kept for the report).
  std::optional<std::chrono::nanoseconds> time_to_recovery;
  std::optional<WallTime> last_revert_at;
  std::optional<WallTime> recovered_at;
  std::vector<std::string> unreverted;     // "agent: fault id" the agents never confirmed
};

}  // namespace chaos::orchestrator
