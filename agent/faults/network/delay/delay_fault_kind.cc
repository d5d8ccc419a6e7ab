#include "agent/faults/network/delay/delay_fault_kind.h"

#include "agent/faults/network/spec_fields.h"
#include "agent/policy.h"
#include "common/duration.h"

namespace chaos::agent::network {

StatusOr<DelayPlan> delay_plan_from_spec(const v1::FaultSpec& spec) {
  if (!spec.has_network_delay()) return invalid_argument("network_delay: missing");
  const auto& proto = spec.network_delay();
  DelayPlan plan;
  CHAOS_ASSIGN_OR_RETURN(plan.impairment.delay, duration_field(proto.delay(), "network_delay.delay"));
  if (plan.impairment.delay <= Duration{0}) return invalid_argument("network_delay.delay: must be positive");
  CHAOS_ASSIGN_OR_RETURN(plan.impairment.jitter, duration_field(proto.jitter(), "network_delay.jitter"));
  switch (proto.distribution()) {
    case v1::NetworkDelay::DISTRIBUTION_UNIFORM: plan.impairment.distribution = JitterDistribution::kUniform; break;
    case v1::NetworkDelay::DISTRIBUTION_NORMAL: plan.impairment.distribution = JitterDistribution::kNormal; break;
    case v1::NetworkDelay::DISTRIBUTION_PARETO: plan.impairment.distribution = JitterDistribution::kPareto; break;
    default:
      return invalid_argument("network_delay.distribution: unknown value " + std::to_string(proto.distribution()));
  }
  CHAOS_ASSIGN_OR_RETURN(const double correlation,
                         probability_field(proto.correlation_percent(), "network_delay.correlation_percent", true));
  if (correlation >= 1) return invalid_argument("network_delay.correlation_percent: must be below 100");
  plan.impairment.delay_correlation = correlation;
  CHAOS_ASSIGN_OR_RETURN(plan.scope, scope_from_proto(proto.scope(), "network_delay.scope", v1::DIRECTION_EGRESS));
  return plan;
}

StatusOr<std::unique_ptr<LiveFault>> DelayFaultKind::apply(const v1::FaultSpec& spec, const FaultContext& context) {
  CHAOS_ASSIGN_OR_RETURN(auto plan, delay_plan_from_spec(spec));
  std::string what = "delay " + format_duration(plan.impairment.delay);
  if (plan.impairment.jitter > Duration{0}) what += " +-" + format_duration(plan.impairment.jitter);
  return apply_impairment(context, plan.scope, plan.impairment, what);
}

Status DelayFaultKind::check_policy_limits(const Policy& policy, const v1::FaultSpec& spec) const {
  CHAOS_ASSIGN_OR_RETURN(auto plan, delay_plan_from_spec(spec));
  const bool uniform = plan.impairment.distribution == network::JitterDistribution::kUniform;
  return check_max_delay(policy, uniform ? "network_delay.delay + jitter" : "network_delay.delay + 4 x jitter",
                         network::max_packet_delay(plan.impairment));
}

std::string DelayFaultKind::scope_interface(const v1::FaultSpec& spec) const {
  auto plan = delay_plan_from_spec(spec);
  return plan.ok() ? plan->scope.interface : "";
}

}  // namespace chaos::agent::network
