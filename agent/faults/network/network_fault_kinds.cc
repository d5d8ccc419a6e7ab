#include "agent/faults/network/network_fault_kinds.h"

#include <unistd.h>

#include <cassert>
#include <iostream>

#include "agent/faults/network/bandwidth/bandwidth_fault_kind.h"
#include "agent/faults/network/delay/delay_fault_kind.h"
#include "agent/faults/network/duplicate/duplicate_fault_kind.h"
#include "agent/faults/network/loss/loss_fault_kind.h"
#include "agent/faults/network/partition/partition_fault_kind.h"
#include "agent/faults/network/reorder/reorder_fault_kind.h"
#include "agent/targets/namespaces/namespace_handle.h"

namespace chaos::agent {

std::vector<std::unique_ptr<FaultKind>> make_network_fault_kinds(const AgentEnvironment& env,
                                                                  const NetworkFaultOptions& options) {
  assert(env.commands != nullptr);
  const auto capabilities =
      network::probe_network_capabilities(*env.commands, "chaos-probe-" + std::to_string(getpid()));
  return make_network_fault_kinds(env, capabilities, nullptr, options);
}

std::vector<std::unique_ptr<FaultKind>> make_network_fault_kinds(const AgentEnvironment& env,
                                                                  const network::NetworkCapabilities& capabilities,
                                                                  network::EngineStarter start_engine,
                                                                  const NetworkFaultOptions& options) {
  using namespace network;
  assert(env.commands != nullptr && "network faults run tc/nft/iptables through env.commands");
  auto runtime = std::make_shared<NetworkRuntime>();
  runtime->env = env;
  runtime->capabilities = capabilities;
  runtime->engine_max_held_bytes = options.engine_max_held_bytes;
  runtime->agent_network_namespace =
      options.agent_network_namespace.empty() ? own_network_namespace() : options.agent_network_namespace;
  // Below the state dir so a restarted agent (journal recovery) still knows
  // which mangle tables were the host's; no state dir, memory only.
  const std::string boot_id = current_boot_id();
  runtime->mangle = std::make_shared<MangleTableKeeper>(
      env.state_dir.empty() ? "" : env.state_dir + "/network/mangle-baseline.json", boot_id);
  runtime->container_mangle = std::make_unique<MangleKeepers>(env.state_dir, boot_id);
  if (!env.state_dir.empty() && boot_id.empty()) {
    std::cerr << "chaos-agent: warning: /proc/sys/kernel/random/boot_id unreadable: mangle table baselines of "
                 "an earlier boot are only told apart when empty\n";
  }
  if (!env.state_dir.empty()) {
    // Their tables went with the kernel that had them, and the faults'
    // unflushed journal records may have too: no recovery would reach them.
    const BaselineSweep sweep = delete_mangle_baselines_of_earlier_boots(env.state_dir + "/network", boot_id);
    for (const auto& path : sweep.deleted) {
      std::cerr << "chaos-agent: " << path << ": " << kEarlierBootBaselineDeleted << "\n";
    }
    for (const auto& path : sweep.unfinished) {
      std::cerr << "chaos-agent: " << path << ": " << kUnfinishedBaselineDeleted << "\n";
    }
    for (const auto& error : sweep.errors) {
      std::cerr << "chaos-agent: warning: mangle table baselines: " << error << "\n";
    }
  }
  runtime->start_engine =
      start_engine ? std::move(start_engine)
                   : [](const EngineOptions& engine_options) -> StatusOr<std::unique_ptr<PacketEngine>> {
    CHAOS_ASSIGN_OR_RETURN(auto engine, NfqueueEngine::start(engine_options));
    return std::unique_ptr<PacketEngine>(std::move(engine));
  };
  std::vector<std::unique_ptr<FaultKind>> kinds;
  kinds.push_back(std::make_unique<DelayFaultKind>(runtime));
  kinds.push_back(std::make_unique<LossFaultKind>(runtime));
  kinds.push_back(std::make_unique<PartitionFaultKind>(runtime));
  kinds.push_back(std::make_unique<BandwidthFaultKind>(runtime));
  kinds.push_back(std::make_unique<DuplicateFaultKind>(runtime));
  kinds.push_back(std::make_unique<ReorderFaultKind>(runtime));
  return kinds;
}

}  // namespace chaos::agent
