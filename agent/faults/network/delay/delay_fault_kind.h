// network.delay: delay + jitter (uniform, normal or pareto) on a scope.
#pragma once

#include "agent/faults/network/engine/impairment_model.h"
#include "agent/faults/network/network_fault_kind_base.h"

namespace chaos::agent::network {

struct DelayPlan {
  TrafficScope scope;
  ImpairmentSpec impairment;
};

StatusOr<DelayPlan> delay_plan_from_spec(const v1::FaultSpec& spec);

class DelayFaultKind final : public NetworkFaultKindBase {
 public:
  explicit DelayFaultKind(std::shared_ptr<NetworkRuntime> runtime) : NetworkFaultKindBase(std::move(runtime)) {}
  std::string name() const override { return "network.delay"; }
  Status validate(const v1::FaultSpec& spec) const override { return delay_plan_from_spec(spec).status(); }
  Status check_policy_limits(const Policy& policy, const v1::FaultSpec& spec) const override;
  StatusOr<std::unique_ptr<LiveFault>> apply(const v1::FaultSpec& spec, const FaultContext& context) override;
  std::string backend() const override { return impairment_backend(); }

 protected:
  std::string scope_interface(const v1::FaultSpec& spec) const override;
};

}  // namespace chaos::agent::network
