#include "agent/faults/network/bandwidth/bandwidth_fault_kind.h"

#include "agent/faults/network/network_live_fault.h"
#include "agent/faults/network/rules/qdisc_tree.h"
#include "agent/faults/network/spec_fields.h"

namespace chaos::agent::network {

namespace {

// Below this tbf's buckets and our serialisation both get silly.
constexpr std::uint64_t kMinRateBitsPerSecond = 8'000;
constexpr std::uint64_t kMaxRateBitsPerSecond = 400'000'000'000ULL;
constexpr std::uint32_t kMaxBurstBytes = 1u << 30;

}  // namespace

StatusOr<BandwidthPlan> bandwidth_plan_from_spec(const v1::FaultSpec& spec) {
  if (!spec.has_network_bandwidth()) return invalid_argument("network_bandwidth: missing");
  const auto& proto = spec.network_bandwidth();
  if (proto.rate_bits_per_second() < kMinRateBitsPerSecond || proto.rate_bits_per_second() > kMaxRateBitsPerSecond) {
    return invalid_argument("network_bandwidth.rate_bits_per_second: must be in " +
                            std::to_string(kMinRateBitsPerSecond) + ".." + std::to_string(kMaxRateBitsPerSecond));
  }
  if (proto.burst_bytes() > kMaxBurstBytes) {
    return invalid_argument("network_bandwidth.burst_bytes: at most " + std::to_string(kMaxBurstBytes));
  }
  BandwidthPlan plan;
  plan.impairment.rate_bits_per_second = proto.rate_bits_per_second();
  CHAOS_ASSIGN_OR_RETURN(plan.impairment.delay, duration_field(proto.latency(), "network_bandwidth.latency"));
  CHAOS_ASSIGN_OR_RETURN(plan.scope,
                         scope_from_proto(proto.scope(), "network_bandwidth.scope", v1::DIRECTION_EGRESS));
  return plan;
}

StatusOr<std::unique_ptr<LiveFault>> BandwidthFaultKind::apply(const v1::FaultSpec& spec,
                                                               const FaultContext& context) {
  CHAOS_ASSIGN_OR_RETURN(auto plan, bandwidth_plan_from_spec(spec));
  const auto& proto = spec.network_bandwidth();
  const std::string what = "rate " + std::to_string(proto.rate_bits_per_second()) + " bit/s";
  if (runtime_->capabilities.tbf && !plan.scope.interface.empty() && !plan.scope.ingress) {
    // `delay` carries tbf's queue latency here, not a delay.
    const auto leaf = tbf_leaf(proto.rate_bits_per_second(), proto.burst_bytes(), plan.impairment.delay);
    return apply_qdisc_fault(*runtime_, context, plan.scope, leaf, "tbf", what);
  }
  ImpairmentSpec engine_spec;
  engine_spec.rate_bits_per_second = proto.rate_bits_per_second();
  return apply_engine_fault(*runtime_, context, plan.scope, engine_spec, what);
}

}  // namespace chaos::agent::network
