#include "agent/faults/network/duplicate/duplicate_fault_kind.h"

#include "agent/faults/network/spec_fields.h"

namespace chaos::agent::network {

StatusOr<DuplicatePlan> duplicate_plan_from_spec(const v1::FaultSpec& spec) {
  if (!spec.has_network_duplicate()) return invalid_argument("network_duplicate: missing");
  const auto& proto = spec.network_duplicate();
  DuplicatePlan plan;
  CHAOS_ASSIGN_OR_RETURN(plan.impairment.duplicate_probability,
                         probability_field(proto.percent(), "network_duplicate.percent", false));
  CHAOS_ASSIGN_OR_RETURN(plan.scope,
                         scope_from_proto(proto.scope(), "network_duplicate.scope", v1::DIRECTION_EGRESS));
  return plan;
}

StatusOr<std::unique_ptr<LiveFault>> DuplicateFaultKind::apply(const v1::FaultSpec& spec,
                                                               const FaultContext& context) {
  CHAOS_ASSIGN_OR_RETURN(auto plan, duplicate_plan_from_spec(spec));
  // The engine re-sends copies through a raw socket, which can only send
  // them out of this node.
  if (plan.scope.ingress && !runtime_->capabilities.netem) {
    return invalid_argument("network_duplicate.scope.direction: the nfqueue backend duplicates egress only");
  }
  char what[48];
  std::snprintf(what, sizeof(what), "duplicate %g%%", spec.network_duplicate().percent());
  return apply_impairment(context, plan.scope, plan.impairment, what);
}

}  // namespace chaos::agent::network
