#include "agent/policy.h"

#include <algorithm>
#include <sstream>

#include "common/duration.h"

namespace chaos::agent {

namespace {

std::string format_percent(double value) {
  std::ostringstream out;
  out << value << "%";
  return out.str();
}

}  // namespace

StatusOr<ProtectedProcesses> ProtectedProcesses::compile(const std::vector<std::string>& patterns) {
  ProtectedProcesses compiled;
  for (const auto& pattern : patterns) {
    auto regex = BoundedRegex::compile(pattern);
    if (!regex.ok()) {
      // A pattern over the length cap is not repeated whole in the message.
      const std::string shown = pattern.size() > 80 ? pattern.substr(0, 80) + "..." : pattern;
      return invalid_argument("protected process pattern '" + shown + "': " + regex.status().message());
    }
    compiled.patterns_.push_back(std::move(*regex));
  }
  return compiled;
}

std::optional<std::string> ProtectedProcesses::protecting_pattern(const ProcessInfo& process) const {
  for (const auto& regex : patterns_) {
    if (regex.found_in(process.comm) || regex.found_in(process.cmdline)) return regex.pattern();
  }
  return std::nullopt;
}

Status check_duration_bound(const Policy& policy, Duration duration) {
  if (duration > policy.max_duration || duration > kDurationCeiling) {
    return invalid_argument("duration: " + format_duration(duration) + " exceeds this agent's limit of " +
                            format_duration(std::min(policy.max_duration, kDurationCeiling)) +
                            " (policy.max_duration)");
  }
  return {};
}

Status check_lease_ttl_bound(const Policy& policy, Duration ttl, const std::string& field) {
  if (ttl > policy.max_lease_ttl || ttl > kDurationCeiling) {
    return invalid_argument(field + ": " + format_duration(ttl) + " exceeds this agent's limit of " +
                            format_duration(std::min(policy.max_lease_ttl, kDurationCeiling)) +
                            " (policy.max_lease_ttl)");
  }
  return {};
}

Status check_policy(const Policy& policy, const FaultKind& kind, const v1::FaultSpec& spec) {
  const auto& allowed = policy.allowed_kinds;
  if (!allowed.empty() && std::find(allowed.begin(), allowed.end(), kind.name()) == allowed.end()) {
    return permission_denied("policy: fault kind '" + kind.name() + "' is not in allowed_kinds");
  }
  return kind.check_policy_limits(policy, spec);
}

Status check_max_delay(const Policy& policy, const std::string& field, Duration delay) {
  if (policy.max_delay.count() > 0 && delay > policy.max_delay) {
    return permission_denied("policy: " + field + " " + format_duration(delay) + " exceeds max_delay " +
                             format_duration(policy.max_delay));
  }
  return {};
}

Status check_max_loss_percent(const Policy& policy, const std::string& field, double percent) {
  if (policy.max_loss_percent && percent > *policy.max_loss_percent) {
    return permission_denied("policy: " + field + ": " + format_percent(percent) + " loss exceeds max_loss_percent " +
                             format_percent(*policy.max_loss_percent));
  }
  return {};
}

}  // namespace chaos::agent
