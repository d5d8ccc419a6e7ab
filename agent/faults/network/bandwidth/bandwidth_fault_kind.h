// network.bandwidth: a rate limit: tbf under an htb root of our own where the
// kernel has it and the scope names one interface (egress); otherwise the
// NFQUEUE engine serialises packets at the rate, like netem's "rate".
#pragma once

#include "agent/faults/network/engine/impairment_model.h"
#include "agent/faults/network/network_fault_kind_base.h"

namespace chaos::agent::network {

struct BandwidthPlan {
  TrafficScope scope;
  ImpairmentSpec impairment;
};

StatusOr<BandwidthPlan> bandwidth_plan_from_spec(const v1::FaultSpec& spec);

class BandwidthFaultKind final : public NetworkFaultKindBase {
 public:
  explicit BandwidthFaultKind(std::shared_ptr<NetworkRuntime> runtime) : NetworkFaultKindBase(std::move(runtime)) {}
  std::string name() const override { return "network.bandwidth"; }
  Status validate(const v1::FaultSpec& spec) const override { return bandwidth_plan_from_spec(spec).status(); }
  StatusOr<std::unique_ptr<LiveFault>> apply(const v1::FaultSpec& spec, const FaultContext& context) override;
  std::string backend() const override { return runtime_->capabilities.tbf ? "tbf" : "nfqueue"; }

 protected:
  std::string scope_interface(const v1::FaultSpec& spec) const override {
    auto plan = bandwidth_plan_from_spec(spec);
    return plan.ok() ? plan->scope.interface : "";
  }
};

}  // namespace chaos::agent::network
