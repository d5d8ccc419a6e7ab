// network.partition: drops all traffic to and from the given peers (nftables), except the agent's own ports.
#pragma once

#include "agent/faults/network/engine/impairment_model.h"
#include "agent/faults/network/network_fault_kind_base.h"

namespace chaos::agent::network {

struct PartitionPlan {
  TrafficScope scope;
  ImpairmentSpec impairment;
};

StatusOr<PartitionPlan> partition_plan_from_spec(const v1::FaultSpec& spec);

class PartitionFaultKind final : public NetworkFaultKindBase {
 public:
  explicit PartitionFaultKind(std::shared_ptr<NetworkRuntime> runtime) : NetworkFaultKindBase(std::move(runtime)) {}
  std::string name() const override { return "network.partition"; }
  Status validate(const v1::FaultSpec& spec) const override { return partition_plan_from_spec(spec).status(); }
  StatusOr<std::unique_ptr<LiveFault>> apply(const v1::FaultSpec& spec, const FaultContext& context) override;
  std::string backend() const override { return "nftables"; }

 protected:
  std::string scope_interface(const v1::FaultSpec& spec) const override {
    auto plan = partition_plan_from_spec(spec);
    return plan.ok() ? plan->scope.interface : "";
  }
};

}  // namespace chaos::agent::network
