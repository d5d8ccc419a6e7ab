#include "agent/faults/network/network_fault_kind_base.h"

#include <algorithm>

#include "agent/faults/network/network_effect_check.h"
#include "agent/faults/network/network_live_fault.h"
#include "agent/faults/network/rules/qdisc_tree.h"

namespace chaos::agent::network {

namespace {

// netem's default limit of 1000 packets drops above ~1000 pps x delay;
// size it like the engine's queue.
std::uint32_t netem_limit_for(const ImpairmentSpec& spec) {
  const double seconds = std::chrono::duration<double>(spec.delay + 3 * spec.jitter).count();
  return static_cast<std::uint32_t>(std::clamp(seconds * 200'000.0, 1000.0, double{1u << 20}));
}

}  // namespace

Status NetworkFaultKindBase::recover(const v1::FaultSpec& spec, const FaultContext& context,
                                     const nlohmann::json& undo_record) {
  // Names come from the fault id and the interface from the (validated)
  // spec, never from the journal's undo record: recovery also works after a
  // crash mid-apply, when there is no record.
  (void)undo_record;
  const auto site = runtime_->site_of(context);
  CHAOS_RETURN_IF_ERROR(recover_network_objects(*site.commands, context.fault_id, scope_interface(spec)));
  // Deletes the mangle tables a crashed agent caused, once the last of its
  // faults is recovered (the baseline it wrote says which they are).
  return site.mangle->restore_if_unused(*site.commands);
}

Status NetworkFaultKindBase::recover_by_id(const FaultContext& context) {
  const auto site = runtime_->site_of(context);
  CHAOS_RETURN_IF_ERROR(recover_network_objects(*site.commands, context.fault_id, ""));
  return site.mangle->restore_if_unused(*site.commands);
}

StatusOr<std::string> NetworkFaultKindBase::verify_recovered(const FaultContext& context,
                                                             const nlohmann::json& undo_record) {
  std::string interface;
  if (undo_record.is_object() && undo_record.contains("interface") && undo_record["interface"].is_string()) {
    interface = undo_record["interface"].get<std::string>();
  }
  return read_back_gone(*runtime_->site_of(context).commands, GoneCheck{context.fault_id, true, true, true, interface});
}

StatusOr<std::unique_ptr<LiveFault>> NetworkFaultKindBase::apply_impairment(const FaultContext& context,
                                                                            const TrafficScope& scope,
                                                                            const ImpairmentSpec& impairment,
                                                                            const std::string& what) {
  if (runtime_->capabilities.netem && !scope.interface.empty() && !scope.ingress) {
    return apply_qdisc_fault(*runtime_, context, scope, netem_leaf(impairment, netem_limit_for(impairment)),
                             "netem", what);
  }
  return apply_engine_fault(*runtime_, context, scope, impairment, what);
}

}  // namespace chaos::agent::network
