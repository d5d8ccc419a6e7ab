#include "agent/faults/network/network_live_fault.h"

#include <algorithm>

#include "agent/faults/network/rules/iptables_steering.h"
#include "agent/faults/network/rules/nft_drop_table.h"
#include "agent/faults/network/rules/object_names.h"
#include "common/crash_point.h"

namespace chaos::agent::network {

namespace {

// Packets held for (delay + jitter) at up to this rate must fit the kernel
// queue; beyond it fail-open lets packets through undelayed.
constexpr double kSizingPacketsPerSecond = 200'000;
constexpr std::uint32_t kMinQueueLength = 4096;
constexpr std::uint32_t kMaxQueueLength = 1u << 20;
// A queue number bound by another program: try the next one, a few times.
constexpr int kQueueAttempts = 8;
// See EngineOptions::realtime_priority; low among RT priorities so kernel
// threads and anything the operator made real-time go first.
constexpr int kEngineRealtimePriority = 10;

std::uint32_t queue_length_for(const ImpairmentSpec& spec) {
  const double held_seconds = std::chrono::duration<double>(spec.delay + 3 * spec.jitter).count();
  const double wanted = held_seconds * kSizingPacketsPerSecond;
  return static_cast<std::uint32_t>(std::clamp(wanted, double{kMinQueueLength}, double{kMaxQueueLength}));
}

std::uint64_t seed_for(const std::string& fault_id) {
  // Reproducible per fault id, distinct between faults.
  return std::stoull(fault_object_tag(fault_id), nullptr, 16);
}

StatusOr<std::shared_ptr<PacketEngine>> start_engine(NetworkRuntime& runtime, const NetworkSite& site,
                                                     const ImpairmentSpec& impairment, const std::string& fault_id,
                                                     const std::string& interface) {
  for (int attempt = 0; attempt < kQueueAttempts; ++attempt) {
    auto number = runtime.queues.acquire();
    if (!number) return resource_exhausted("every NFQUEUE number of the agent's range is in use");
    EngineOptions options{*number, impairment, seed_for(fault_id), queue_length_for(impairment), kBypassMark,
                          kEngineRealtimePriority, interface};
    options.max_held_bytes = runtime.engine_max_held_bytes;
    options.network_namespace_fd = site.network_namespace_fd;
    crash_point("network: start engine");
    auto engine = runtime.start_engine(options);
    if (engine.ok()) return std::shared_ptr<PacketEngine>(std::move(engine).value());
    // A queue another program owns stays marked as used; other errors free it.
    if (engine.status().code() != StatusCode::kAlreadyExists) {
      runtime.queues.release(*number);
      return engine.status();
    }
  }
  return resource_exhausted("no free NFQUEUE number after " + std::to_string(kQueueAttempts) + " attempts");
}

Status reserve_scope(NetworkRuntime& runtime, const NetworkSite& site, RollbackStack& undo,
                     const std::string& group, const std::string& fault_id, const TrafficScope& scope) {
  CHAOS_RETURN_IF_ERROR(runtime.book.reserve(site.scope_group(group), fault_id, scope));
  // Shared ownership: a live fault may outlive the kind that made it. Kept
  // while anything of the fault is left, so no overlapping fault comes in
  // behind a rule that would hide packets from it.
  undo.push_last_to_undo("scope reservation", [shared = runtime.shared_from_this(), fault_id] {
    shared->book.release(fault_id);
    return Status{};
  });
  return {};
}

// Installs steering between a mangle-table acquire and, on undo, a release
// once the chains are gone (so the last fault in the namespace restores its
// tables; a removal that fails keeps the fault a user until a retry
// succeeds). The step holds the namespace's keeper; the site's runner
// outlives the fault (the host's, or the container's, which the targeting
// wrapper keeps until the fault is destroyed).
Status steer(const NetworkSite& site, RollbackStack& undo, const SteeringPlan& plan) {
  CommandRunner& commands = *site.commands;
  CHAOS_RETURN_IF_ERROR(site.mangle->acquire(commands));
  if (auto status = install_steering(commands, plan); !status.ok()) {
    (void)site.mangle->release(commands);
    return status;
  }
  auto released = std::make_shared<bool>(false);
  undo.push("iptables steering", [&commands, mangle = site.mangle, egress = plan.egress_chain,
                                  ingress = plan.ingress_chain, released] {
    CHAOS_RETURN_IF_ERROR(remove_steering(commands, egress, ingress));
    if (*released) return Status{};
    *released = true;
    return mangle->release(commands);
  });
  return {};
}

}  // namespace

std::string NetworkLiveFault::detail() const {
  const auto engine = engine_.lock();
  if (!engine) return detail_;
  const auto stats = engine->stats();
  return detail_ + " (queue " + std::to_string(engine->queue_number()) + ": " + std::to_string(stats.received) +
         " seen, " + std::to_string(stats.dropped) + " dropped, " + std::to_string(stats.duplicated) +
         " duplicated" + (stats.over_cap > 0 ? ", " + std::to_string(stats.over_cap) + " over the copy cap" : "") +
         ")";
}

Status NetworkLiveFault::on_tick(SteadyTime now) {
  (void)now;
  const auto engine = engine_.lock();
  if (!engine) return {};
  const std::string failure = engine->failure();
  if (failure.empty()) return {};
  return aborted("engine_failed: NFQUEUE engine on queue " + std::to_string(engine->queue_number()) + ": " +
                 failure);
}

StatusOr<FaultEffect> NetworkLiveFault::verify_live() {
  const auto engine = engine_.lock();
  if (!engine && backend_ == "nfqueue") return failed_precondition("nfqueue: the fault's engine has stopped");
  return read_back_effect(commands_, objects_, engine.get());
}

StatusOr<FaultEffect> NetworkLiveFault::observe() {
  const auto engine = engine_.lock();
  if (!engine) return verify_live();
  return engine_effect(*engine);
}

StatusOr<std::string> NetworkLiveFault::verify_gone() {
  return read_back_gone(commands_, GoneCheck{fault_id_, objects_.steering.has_value(),
                                             objects_.drop_table.has_value(), !objects_.qdisc_leaf.empty(),
                                             objects_.qdisc_interface});
}

StatusOr<std::unique_ptr<LiveFault>> apply_engine_fault(NetworkRuntime& runtime, const FaultContext& context,
                                                        const TrafficScope& scope, const ImpairmentSpec& impairment,
                                                        const std::string& what) {
  const auto site = runtime.site_of(context);
  const auto names = fault_object_names(context.fault_id);
  RollbackStack undo(context.failed_rollback);
  CHAOS_RETURN_IF_ERROR(reserve_scope(runtime, site, undo, "nfqueue", context.fault_id, scope));
  CHAOS_ASSIGN_OR_RETURN(auto engine, start_engine(runtime, site, impairment, context.fault_id, scope.interface));
  const auto queue = engine->queue_number();
  // The number is free again only once no rule sends packets to it: after a
  // revert that could not remove the chain, the next engine fault would be
  // given it and treat this fault's traffic as its own.
  undo.push_last_to_undo("NFQUEUE number", [shared = runtime.shared_from_this(), queue] {
    shared->queues.release(queue);
    return Status{};
  });
  // The engine must outlive the rules: removing the rules first means no
  // packet is queued to a closed socket; stopping it then releases the
  // packets it still holds. It stops even when a rule stays: the rule
  // bypasses a queue without a reader, so the impairment ends regardless.
  undo.push("NFQUEUE engine", [engine]() mutable {
    if (!engine) return Status{};
    crash_point("network: stop engine");
    engine.reset();
    return Status{};
  });
  SteeringPlan plan{names.egress_chain, names.ingress_chain, scope, runtime.env.protected_ports,
                    SteeringTarget{SteeringTarget::Kind::kQueue, queue, ""}};
  CHAOS_RETURN_IF_ERROR(steer(site, undo, plan));
  nlohmann::json record = {{"backend", "nfqueue"}, {"queue", queue}, {"egress_chain", names.egress_chain},
                           {"ingress_chain", names.ingress_chain}, {"interface", scope.interface}};
  return std::unique_ptr<LiveFault>(std::make_unique<NetworkLiveFault>(
      "nfqueue", what + " " + scope.describe(), std::move(record), std::move(undo), *site.commands,
      context.fault_id, FaultObjects{plan, std::nullopt, "", ""}, engine));
}

StatusOr<std::unique_ptr<LiveFault>> apply_qdisc_fault(NetworkRuntime& runtime, const FaultContext& context,
                                                       const TrafficScope& scope, const Argv& leaf,
                                                       const std::string& backend, const std::string& what) {
  if (scope.interface.empty()) return invalid_argument("scope.interface: required by the " + backend + " backend");
  if (scope.ingress) return invalid_argument("scope.direction: the " + backend + " backend shapes egress only");
  const auto site = runtime.site_of(context);
  auto& commands = *site.commands;
  const auto names = fault_object_names(context.fault_id);
  RollbackStack undo(context.failed_rollback);
  CHAOS_RETURN_IF_ERROR(reserve_scope(runtime, site, undo, "qdisc " + scope.interface, context.fault_id,
                                      TrafficScope{scope.interface, {}, {}, {}, Protocol::kAny, true, false}));
  CHAOS_RETURN_IF_ERROR(install_qdisc_tree(commands, scope.interface, names.qdisc_leaf_handle, leaf));
  undo.push("qdisc tree", [&commands, interface = scope.interface, leaf_handle = names.qdisc_leaf_handle] {
    return remove_qdisc_tree(commands, interface, leaf_handle);
  });
  SteeringPlan plan{names.egress_chain, names.ingress_chain, scope, runtime.env.protected_ports,
                    SteeringTarget{SteeringTarget::Kind::kClassify, 0, kQdiscClassId}};
  CHAOS_RETURN_IF_ERROR(steer(site, undo, plan));
  nlohmann::json record = {{"backend", backend}, {"interface", scope.interface},
                           {"egress_chain", names.egress_chain}, {"ingress_chain", names.ingress_chain}};
  return std::unique_ptr<LiveFault>(std::make_unique<NetworkLiveFault>(
      backend, what + " " + scope.describe(), std::move(record), std::move(undo), commands, context.fault_id,
      FaultObjects{plan, std::nullopt, scope.interface, names.qdisc_leaf_handle}));
}

StatusOr<std::unique_ptr<LiveFault>> apply_drop_fault(NetworkRuntime& runtime, const FaultContext& context,
                                                      const TrafficScope& scope, int drop_per_million,
                                                      const std::string& what) {
  auto& commands = *runtime.site_of(context).commands;
  const auto table = fault_object_names(context.fault_id).nft_table;
  RollbackStack undo(context.failed_rollback);
  DropTablePlan plan{table, scope, runtime.env.protected_ports, drop_per_million};
  CHAOS_RETURN_IF_ERROR(install_drop_table(commands, plan));
  undo.push("nft table", [&commands, table] { return remove_drop_table(commands, table); });
  nlohmann::json record = {{"backend", "nftables"}, {"nft_table", table}};
  return std::unique_ptr<LiveFault>(std::make_unique<NetworkLiveFault>(
      "nftables", what + " " + scope.describe(), std::move(record), std::move(undo), commands, context.fault_id,
      FaultObjects{std::nullopt, std::move(plan), "", ""}));
}

Status recover_network_objects(CommandRunner& commands, const std::string& fault_id, const std::string& interface) {
  const auto names = fault_object_names(fault_id);
  Status first_error = remove_steering(commands, names.egress_chain, names.ingress_chain);
  if (auto status = remove_drop_table(commands, names.nft_table); !status.ok() && first_error.ok()) {
    first_error = status;
  }
  const auto qdiscs = interface.empty() ? remove_qdisc_trees_with_leaf(commands, names.qdisc_leaf_handle)
                                         : remove_qdisc_tree(commands, interface, names.qdisc_leaf_handle);
  if (!qdiscs.ok() && first_error.ok()) first_error = qdiscs;
  return first_error.ok() ? first_error : first_error.with_context("recovering fault " + fault_id);
}

}  // namespace chaos::agent::network
