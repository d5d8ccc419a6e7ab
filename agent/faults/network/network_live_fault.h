// The LiveFault every network kind returns: it owns the rollback stack of
// its apply (rules, qdiscs, engine, scope reservation) and unwinds it on
// revert. Builders below do the all-or-nothing apply for each backend.
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "agent/fault.h"
#include "agent/faults/network/engine/impairment_model.h"
#include "agent/faults/network/network_effect_check.h"
#include "agent/faults/network/network_runtime.h"
#include "agent/rollback_stack.h"
#include "agent/faults/network/rules/qdisc_tree.h"
#include "agent/faults/network/traffic_scope.h"

namespace chaos::agent::network {

class NetworkLiveFault final : public LiveFault {
 public:
  // `commands` reads the objects back (verify_live, verify_gone) where the
  // fault acts (NetworkSite); it outlives the fault, as the rollback steps
  // rely on too.
  NetworkLiveFault(std::string backend, std::string detail, nlohmann::json undo, RollbackStack undo_steps,
                   CommandRunner& commands, std::string fault_id, FaultObjects objects,
                   std::weak_ptr<PacketEngine> engine = {})
      : backend_(std::move(backend)), detail_(std::move(detail)), undo_(std::move(undo)),
        undo_steps_(std::move(undo_steps)), commands_(commands), fault_id_(std::move(fault_id)),
        objects_(std::move(objects)), engine_(std::move(engine)) {}

  std::string backend() const override { return backend_; }
  std::string detail() const override;
  nlohmann::json undo_record() const override { return undo_; }
  // Serialised per fault only (a retry and a request may overlap); other
  // faults' reverts never wait for this one.
  Status revert() override {
    std::lock_guard lock(revert_mutex_);
    return undo_steps_.unwind();
  }
  // ABORTED "engine_failed: ..." once the engine's thread has stopped.
  Status on_tick(SteadyTime now) override;
  // Lists every object the fault built (chains with their jump and target
  // rule, nft table, qdisc leaf) with the tools' own listings, checks the
  // engine runs, and reports the kernel's and the engine's counters.
  StatusOr<FaultEffect> verify_live() override;
  // Engine faults: the engine's in-process counters only; others list.
  StatusOr<FaultEffect> observe() override;
  // Lists that nothing of what this fault's backend builds is left.
  StatusOr<std::string> verify_gone() override;

 private:
  std::string backend_;
  std::string detail_;
  nlohmann::json undo_;
  std::mutex revert_mutex_;
  RollbackStack undo_steps_;  // guarded by revert_mutex_
  CommandRunner& commands_;
  std::string fault_id_;
  FaultObjects objects_;
  // Only observed, for statistics in detail(): the rollback step owns the
  // engine so that revert really stops it.
  std::weak_ptr<PacketEngine> engine_;
};

// NFQUEUE engine + iptables NFQUEUE steering.
StatusOr<std::unique_ptr<LiveFault>> apply_engine_fault(NetworkRuntime& runtime, const FaultContext& context,
                                                        const TrafficScope& scope, const ImpairmentSpec& impairment,
                                                        const std::string& what);

// Qdisc tree (tbf or netem leaf) + iptables CLASSIFY steering; egress only.
StatusOr<std::unique_ptr<LiveFault>> apply_qdisc_fault(NetworkRuntime& runtime, const FaultContext& context,
                                                       const TrafficScope& scope, const Argv& leaf,
                                                       const std::string& backend, const std::string& what);

// nftables drop table (partition, plain loss).
StatusOr<std::unique_ptr<LiveFault>> apply_drop_fault(NetworkRuntime& runtime, const FaultContext& context,
                                                      const TrafficScope& scope, int drop_per_million,
                                                      const std::string& what);

// Removes by name whatever any network backend may have left for this fault
// id (chains, nft table, our qdisc on `interface`, or on whichever
// interface holds it when `interface` is empty); idempotent.
Status recover_network_objects(CommandRunner& commands, const std::string& fault_id, const std::string& interface);

}  // namespace chaos::agent::network
