// What this agent allows, from its config: fault kinds, the longest fault,
// the worst delay and loss, and processes that must never be signalled.
// A request outside policy is refused with PERMISSION_DENIED and the reason,
// before anything touches the system.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "agent/process_table.h"
#include "chaos/v1/agent.pb.h"
#include "common/bounded_regex.h"
#include "common/clock.h"
#include "common/status.h"

namespace chaos::agent {

struct Policy {
  std::vector<std::string> allowed_kinds;  // empty: every registered kind
  Duration max_duration{0};                // 0: no limit
  Duration max_delay{0};                   // delay + jitter of any delaying fault; 0: no limit
  std::optional<double> max_loss_percent;  // network.loss percent; unset: no limit
  // RE2 regexes (common/bounded_regex.h); a process whose comm or cmdline
  // contains a match is never a target of a process fault.
  std::vector<std::string> protected_processes;
};

// Compiled protected-process patterns.
class ProtectedProcesses {
 public:
  ProtectedProcesses() = default;
  // INVALID_ARGUMENT naming the pattern and RE2's error when one does not
  // compile or is over BoundedRegex::kMaxPatternBytes.
  static StatusOr<ProtectedProcesses> compile(const std::vector<std::string>& patterns);
  // The first pattern found in `process`'s comm or cmdline, if any.
  std::optional<std::string> protecting_pattern(const ProcessInfo& process) const;

 private:
  std::vector<BoundedRegex> patterns_;
};

// OK, or PERMISSION_DENIED "policy: <why>" for a spec of `kind` lasting
// `duration`.
Status check_policy(const Policy& policy, const std::string& kind, const v1::FaultSpec& spec,
                    Duration duration);

}  // namespace chaos::agent
