#include "agent/faults/network/reorder/reorder_fault_kind.h"

#include "agent/faults/network/spec_fields.h"
#include "agent/policy.h"
#include "common/duration.h"

namespace chaos::agent::network {

StatusOr<ReorderPlan> reorder_plan_from_spec(const v1::FaultSpec& spec) {
  if (!spec.has_network_reorder()) return invalid_argument("network_reorder: missing");
  const auto& proto = spec.network_reorder();
  ReorderPlan plan;
  CHAOS_ASSIGN_OR_RETURN(plan.impairment.immediate_probability,
                         probability_field(proto.percent(), "network_reorder.percent", false));
  if (plan.impairment.immediate_probability >= 1) {
    return invalid_argument("network_reorder.percent: must be below 100 (100 sends everything in order)");
  }
  CHAOS_ASSIGN_OR_RETURN(plan.impairment.delay, duration_field(proto.delay(), "network_reorder.delay"));
  // As tc refuses "reorder" without a delay: nothing could be overtaken.
  if (plan.impairment.delay <= Duration{0}) return invalid_argument("network_reorder.delay: must be positive");
  CHAOS_ASSIGN_OR_RETURN(plan.scope, scope_from_proto(proto.scope(), "network_reorder.scope", v1::DIRECTION_EGRESS));
  return plan;
}

StatusOr<std::unique_ptr<LiveFault>> ReorderFaultKind::apply(const v1::FaultSpec& spec, const FaultContext& context) {
  CHAOS_ASSIGN_OR_RETURN(auto plan, reorder_plan_from_spec(spec));
  char what[96];
  std::snprintf(what, sizeof(what), "reorder %g%% (rest delayed %s)", spec.network_reorder().percent(),
                format_duration(plan.impairment.delay).c_str());
  return apply_impairment(context, plan.scope, plan.impairment, what);
}

Status ReorderFaultKind::check_policy_limits(const Policy& policy, const v1::FaultSpec& spec) const {
  CHAOS_ASSIGN_OR_RETURN(auto plan, reorder_plan_from_spec(spec));
  return check_max_delay(policy, "network_reorder.delay", plan.impairment.delay);
}

}  // namespace chaos::agent::network
