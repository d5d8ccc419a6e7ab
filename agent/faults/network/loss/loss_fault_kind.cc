#include "agent/faults/network/loss/loss_fault_kind.h"

#include <algorithm>
#include <cmath>

#include "agent/faults/network/network_live_fault.h"
#include "agent/faults/network/spec_fields.h"
#include "agent/policy.h"

namespace chaos::agent::network {

namespace {

// Unset (0) means "the bad state loses everything", as in netem's gemodel.
double loss_in_bad_percent(const v1::NetworkLoss::GilbertElliott& proto) {
  return proto.loss_in_bad_percent() == 0 ? 100 : proto.loss_in_bad_percent();
}

StatusOr<GilbertElliott> burst_from_proto(const v1::NetworkLoss::GilbertElliott& proto) {
  const std::string field = "network_loss.burst.";
  GilbertElliott model;
  CHAOS_ASSIGN_OR_RETURN(model.good_to_bad, probability_field(proto.p_percent(), field + "p_percent", false));
  CHAOS_ASSIGN_OR_RETURN(model.bad_to_good, probability_field(proto.r_percent(), field + "r_percent", false));
  CHAOS_ASSIGN_OR_RETURN(model.loss_in_bad,
                         probability_field(loss_in_bad_percent(proto), field + "loss_in_bad_percent", true));
  CHAOS_ASSIGN_OR_RETURN(model.loss_in_good,
                         probability_field(proto.loss_in_good_percent(), field + "loss_in_good_percent", true));
  return model;
}

}  // namespace

StatusOr<LossPlan> loss_plan_from_spec(const v1::FaultSpec& spec) {
  if (!spec.has_network_loss()) return invalid_argument("network_loss: missing");
  const auto& proto = spec.network_loss();
  LossPlan plan;
  CHAOS_ASSIGN_OR_RETURN(plan.impairment.loss_probability,
                         probability_field(proto.percent(), "network_loss.percent", proto.has_burst()));
  CHAOS_ASSIGN_OR_RETURN(plan.impairment.loss_correlation,
                         probability_field(proto.correlation_percent(), "network_loss.correlation_percent", true));
  if (plan.impairment.loss_correlation >= 1) {
    return invalid_argument("network_loss.correlation_percent: must be below 100");
  }
  if (proto.has_burst()) {
    CHAOS_ASSIGN_OR_RETURN(plan.impairment.burst_loss, burst_from_proto(proto.burst()));
  }
  plan.stateless = !proto.has_burst() && plan.impairment.loss_correlation == 0;
  CHAOS_ASSIGN_OR_RETURN(plan.scope, scope_from_proto(proto.scope(), "network_loss.scope", v1::DIRECTION_EGRESS));
  return plan;
}

StatusOr<std::unique_ptr<LiveFault>> LossFaultKind::apply(const v1::FaultSpec& spec, const FaultContext& context) {
  CHAOS_ASSIGN_OR_RETURN(auto plan, loss_plan_from_spec(spec));
  char percent[32];
  std::snprintf(percent, sizeof(percent), "%g%%", spec.network_loss().percent());
  if (plan.stateless) {
    const int per_million = static_cast<int>(std::lround(plan.impairment.loss_probability * 1e6));
    return apply_drop_fault(*runtime_, context, plan.scope, per_million, std::string("loss ") + percent);
  }
  return apply_impairment(context, plan.scope, plan.impairment,
                          std::string(plan.impairment.burst_loss ? "burst loss (Gilbert-Elliott)" : "loss ") +
                              (plan.impairment.burst_loss ? "" : percent));
}

Status LossFaultKind::check_policy_limits(const Policy& policy, const v1::FaultSpec& spec) const {
  const auto& loss = spec.network_loss();
  // The burst model can lose more in its bad state than `percent` says, and
  // its bad state loses 100 % when the request leaves it unset: the limit
  // applies to what would be applied, not to what the request spelled out.
  double worst = loss.percent();
  if (loss.has_burst()) {
    worst = std::max({worst, loss_in_bad_percent(loss.burst()), loss.burst().loss_in_good_percent()});
  }
  return check_max_loss_percent(policy, "network_loss", worst);
}

std::string LossFaultKind::scope_interface(const v1::FaultSpec& spec) const {
  auto plan = loss_plan_from_spec(spec);
  return plan.ok() ? plan->scope.interface : "";
}

}  // namespace chaos::agent::network
