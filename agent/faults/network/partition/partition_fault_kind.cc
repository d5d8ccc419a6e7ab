#include "agent/faults/network/partition/partition_fault_kind.h"

#include "agent/faults/network/network_live_fault.h"

namespace chaos::agent::network {

StatusOr<PartitionPlan> partition_plan_from_spec(const v1::FaultSpec& spec) {
  if (!spec.has_network_partition()) return invalid_argument("network_partition: missing");
  const auto& proto = spec.network_partition();
  if (proto.cidrs().empty()) return invalid_argument("network_partition.cidrs: at least one peer CIDR is required");
  if (!proto.scope().destination_cidrs().empty()) {
    return invalid_argument("network_partition.scope.destination_cidrs: name the peers in network_partition.cidrs");
  }
  PartitionPlan plan;
  CHAOS_ASSIGN_OR_RETURN(plan.scope,
                         scope_from_proto(proto.scope(), "network_partition.scope", v1::DIRECTION_BOTH));
  const auto direction = proto.direction() == v1::DIRECTION_UNSPECIFIED ? v1::DIRECTION_BOTH : proto.direction();
  CHAOS_RETURN_IF_ERROR(set_direction(plan.scope, direction, "network_partition.direction"));
  if (static_cast<std::size_t>(proto.cidrs_size()) > kMaxCidrsPerScope) {
    return invalid_argument("network_partition.cidrs: at most " + std::to_string(kMaxCidrsPerScope) + " CIDRs");
  }
  for (int i = 0; i < proto.cidrs_size(); ++i) {
    auto cidr = parse_cidr(proto.cidrs(i));
    if (!cidr.ok()) return cidr.status().with_context("network_partition.cidrs[" + std::to_string(i) + "]");
    plan.scope.peers.push_back(*cidr);
  }
  return plan;
}

StatusOr<std::unique_ptr<LiveFault>> PartitionFaultKind::apply(const v1::FaultSpec& spec,
                                                               const FaultContext& context) {
  CHAOS_ASSIGN_OR_RETURN(auto plan, partition_plan_from_spec(spec));
  return apply_drop_fault(*runtime_, context, plan.scope, 1'000'000, "partition");
}

}  // namespace chaos::agent::network
