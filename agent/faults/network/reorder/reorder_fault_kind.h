// network.reorder: as netem's "reorder P": P of the packets go at once, the rest
// wait `delay`, so later packets overtake earlier ones.
#pragma once

#include "agent/faults/network/engine/impairment_model.h"
#include "agent/faults/network/network_fault_kind_base.h"

namespace chaos::agent::network {

struct ReorderPlan {
  TrafficScope scope;
  ImpairmentSpec impairment;
};

StatusOr<ReorderPlan> reorder_plan_from_spec(const v1::FaultSpec& spec);

class ReorderFaultKind final : public NetworkFaultKindBase {
 public:
  explicit ReorderFaultKind(std::shared_ptr<NetworkRuntime> runtime) : NetworkFaultKindBase(std::move(runtime)) {}
  std::string name() const override { return "network.reorder"; }
  Status validate(const v1::FaultSpec& spec) const override { return reorder_plan_from_spec(spec).status(); }
  Status check_policy_limits(const Policy& policy, const v1::FaultSpec& spec) const override;
  StatusOr<std::unique_ptr<LiveFault>> apply(const v1::FaultSpec& spec, const FaultContext& context) override;
  std::string backend() const override { return impairment_backend(); }

 protected:
  std::string scope_interface(const v1::FaultSpec& spec) const override {
    auto plan = reorder_plan_from_spec(spec);
    return plan.ok() ? plan->scope.interface : "";
  }
};

}  // namespace chaos::agent::network
