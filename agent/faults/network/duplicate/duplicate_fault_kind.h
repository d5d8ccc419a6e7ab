// network.duplicate: sends a share of packets twice (netem, or the NFQUEUE engine,
// which re-sends a copy through a marked raw socket: egress, IPv4 and IPv6).
#pragma once

#include "agent/faults/network/engine/impairment_model.h"
#include "agent/faults/network/network_fault_kind_base.h"

namespace chaos::agent::network {

struct DuplicatePlan {
  TrafficScope scope;
  ImpairmentSpec impairment;
};

StatusOr<DuplicatePlan> duplicate_plan_from_spec(const v1::FaultSpec& spec);

class DuplicateFaultKind final : public NetworkFaultKindBase {
 public:
  explicit DuplicateFaultKind(std::shared_ptr<NetworkRuntime> runtime) : NetworkFaultKindBase(std::move(runtime)) {}
  std::string name() const override { return "network.duplicate"; }
  Status validate(const v1::FaultSpec& spec) const override { return duplicate_plan_from_spec(spec).status(); }
  StatusOr<std::unique_ptr<LiveFault>> apply(const v1::FaultSpec& spec, const FaultContext& context) override;
  std::string backend() const override { return impairment_backend(); }

 protected:
  std::string scope_interface(const v1::FaultSpec& spec) const override {
    auto plan = duplicate_plan_from_spec(spec);
    return plan.ok() ? plan->scope.interface : "";
  }
};

}  // namespace chaos::agent::network
