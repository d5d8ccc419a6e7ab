// What this agent allows, from its config: fault kinds, the longest fault,
// the worst delay and loss, and processes that must never be signalled.
// A request outside policy is refused with PERMISSION_DENIED and the reason,
// before anything touches the system.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "agent/fault.h"
#include "agent/process_table.h"
#include "chaos/v1/agent.pb.h"
#include "common/bounded_regex.h"
#include "common/clock.h"
#include "common/status.h"

namespace chaos::agent {

// Hard ceilings no configuration can raise: every duration the agent adds
// to a clock stays far from overflow, and a forgotten fault still ends.
inline constexpr Duration kDurationCeiling = std::chrono::hours(24 * 30);
inline constexpr std::size_t kLiveFaultsCeiling = 4096;

struct Policy {
  std::vector<std::string> allowed_kinds;  // empty: every registered kind
  // The longest fault and the longest lease TTL a request may ask for; both
  // within 0 < limit <= kDurationCeiling.
  Duration max_duration{std::chrono::hours(1)};
  Duration max_lease_ttl{std::chrono::minutes(10)};
  // Faults live at once (applying, active, reverting or failed to revert).
  std::size_t max_live_faults = 256;
  Duration max_delay{0};                   // delay + jitter of any delaying fault; 0: no limit
  std::optional<double> max_loss_percent;  // network.loss percent; unset: no limit
  // RE2 regexes (common/bounded_regex.h); a process whose comm or cmdline
  // contains a match is never a target of a process fault.
  std::vector<std::string> protected_processes;
  // Mount points whose filesystems disk.fill refuses to fill (absolute,
  // normalised): the machine's root by default.
  std::vector<std::string> disk_fill_protected = {"/"};
  // stress.memory: the most it may allocate, in bytes and as a share of
  // MemAvailable (a percent spec is resolved to bytes and checked against
  // both); unset: no limit.
  std::optional<std::uint64_t> max_memory_bytes;
  std::optional<double> max_memory_percent;
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

// INVALID_ARGUMENT naming the field and the limit when a fault's duration
// exceeds max_duration; checked before any time arithmetic.
Status check_duration_bound(const Policy& policy, Duration duration);
// The same for a lease TTL (`field` is "lease_ttl" or "ttl").
Status check_lease_ttl_bound(const Policy& policy, Duration ttl, const std::string& field);

// OK, or PERMISSION_DENIED "policy: <why>": `kind` is not in allowed_kinds,
// or the spec asks for more than the kind's limits allow
// (FaultKind::check_policy_limits). The duration is bounded by
// check_duration_bound(), before this is asked.
Status check_policy(const Policy& policy, const FaultKind& kind, const v1::FaultSpec& spec);

// For the kinds' check_policy_limits: PERMISSION_DENIED naming `field`, the
// value asked for and the limit, or OK when the policy sets no limit.
Status check_max_delay(const Policy& policy, const std::string& field, Duration delay);
Status check_max_loss_percent(const Policy& policy, const std::string& field, double percent);

}  // namespace chaos::agent
