// network.loss: plain random loss as an nftables rule (numgen random, no
// userspace at all); correlated or Gilbert-Elliott burst loss needs state
// per packet and runs on netem or the NFQUEUE engine.
#pragma once

#include "agent/faults/network/engine/impairment_model.h"
#include "agent/faults/network/network_fault_kind_base.h"

namespace chaos::agent::network {

struct LossPlan {
  TrafficScope scope;
  ImpairmentSpec impairment;
  bool stateless = true;  // plain Bernoulli loss: nftables can do it
};

StatusOr<LossPlan> loss_plan_from_spec(const v1::FaultSpec& spec);

class LossFaultKind final : public NetworkFaultKindBase {
 public:
  explicit LossFaultKind(std::shared_ptr<NetworkRuntime> runtime) : NetworkFaultKindBase(std::move(runtime)) {}
  std::string name() const override { return "network.loss"; }
  Status validate(const v1::FaultSpec& spec) const override { return loss_plan_from_spec(spec).status(); }
  Status check_policy_limits(const Policy& policy, const v1::FaultSpec& spec) const override;
  StatusOr<std::unique_ptr<LiveFault>> apply(const v1::FaultSpec& spec, const FaultContext& context) override;
  std::string backend() const override { return "nftables"; }

 protected:
  std::string scope_interface(const v1::FaultSpec& spec) const override;
};

}  // namespace chaos::agent::network
