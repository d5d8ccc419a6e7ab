#include "agent/policy.h"

#include <algorithm>
#include <sstream>

#include "common/duration.h"

namespace chaos::agent {

namespace {

Duration to_duration(const google::protobuf::Duration& value) {
  return std::chrono::seconds(value.seconds()) + std::chrono::nanoseconds(value.nanos());
}

// Every delay a spec can ask for, with the field that asks for it.
std::vector<std::pair<std::string, Duration>> requested_delays(const v1::FaultSpec& spec) {
  std::vector<std::pair<std::string, Duration>> delays;
  switch (spec.kind_case()) {
    case v1::FaultSpec::kNetworkDelay:
      delays.emplace_back("network_delay.delay + jitter", to_duration(spec.network_delay().delay()) +
                                                              to_duration(spec.network_delay().jitter()));
      break;
    case v1::FaultSpec::kNetworkReorder:
      delays.emplace_back("network_reorder.delay", to_duration(spec.network_reorder().delay()));
      break;
    case v1::FaultSpec::kDns:
      delays.emplace_back("dns.delay", to_duration(spec.dns().delay()));
      break;
    default:
      break;
  }
  return delays;
}

std::string format_percent(double value) {
  std::ostringstream out;
  out << value << "%";
  return out.str();
}

Status check_loss(const Policy& policy, const v1::FaultSpec& spec) {
  if (!policy.max_loss_percent || spec.kind_case() != v1::FaultSpec::kNetworkLoss) return {};
  const auto& loss = spec.network_loss();
  const double worst = std::max({loss.percent(), loss.burst().loss_in_bad_percent(),
                                 loss.burst().loss_in_good_percent()});
  if (worst > *policy.max_loss_percent) {
    return permission_denied("policy: network_loss: " + format_percent(worst) + " loss exceeds max_loss_percent " +
                             format_percent(*policy.max_loss_percent));
  }
  return {};
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

Status check_policy(const Policy& policy, const std::string& kind, const v1::FaultSpec& spec) {
  const auto& allowed = policy.allowed_kinds;
  if (!allowed.empty() && std::find(allowed.begin(), allowed.end(), kind) == allowed.end()) {
    return permission_denied("policy: fault kind '" + kind + "' is not in allowed_kinds");
  }
  if (policy.max_delay.count() > 0) {
    for (const auto& [field, delay] : requested_delays(spec)) {
      if (delay > policy.max_delay) {
        return permission_denied("policy: " + field + " " + format_duration(delay) + " exceeds max_delay " +
                                 format_duration(policy.max_delay));
      }
    }
  }
  return check_loss(policy, spec);
}

}  // namespace chaos::agent
