// State shared by every network fault kind of one agent: the environment,
// the probed capabilities, which live faults own which scope (to refuse
// overlaps), which NFQUEUE numbers are in use, and where each fault acts
// (the host's network namespace or a container's: NetworkSite).
//
// Concurrency: different faults apply, revert and recover at the same time
// on different threads. ScopeBook, QueueNumbers and MangleKeepers guard
// their maps with their own mutex and never run a command or touch a file
// under it; the MangleTableKeeper documents the one lock held across
// commands (see mangle_tables.h). Everything else here is set once at
// construction.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>

#include "agent/fault.h"
#include "agent/faults/network/backend_probe.h"
#include "agent/faults/network/engine/nfqueue_engine.h"
#include "agent/faults/network/rules/mangle_tables.h"
#include "agent/faults/network/traffic_scope.h"

namespace chaos::agent::network {

using EngineStarter = std::function<StatusOr<std::unique_ptr<PacketEngine>>(const EngineOptions&)>;

// Faults in the same group cannot share packets: an NFQUEUE verdict ends the
// mangle table for that packet, so a second engine's rule would never see
// it, and an interface has one root qdisc. Such overlaps are refused.
// Drops (nftables) compose with everything and are not recorded.
class ScopeBook {
 public:
  Status reserve(const std::string& group, const std::string& fault_id, const TrafficScope& scope);
  void release(const std::string& fault_id);

 private:
  struct Entry {
    std::string group;
    TrafficScope scope;
  };
  std::mutex mutex_;
  std::map<std::string, Entry> entries_;
};

// NFQUEUE numbers are per network namespace; we take ours from a fixed
// range and skip numbers another program has bound. One set for every
// namespace the agent acts in: simpler, and the range is wide enough.
class QueueNumbers {
 public:
  static constexpr std::uint16_t kFirst = 31200;
  static constexpr std::uint16_t kCount = 256;

  std::optional<std::uint16_t> acquire();
  void release(std::uint16_t number);

 private:
  std::mutex mutex_;
  std::set<std::uint16_t> in_use_;
};

// One MangleTableKeeper per container network namespace, shared by the
// faults acting in it (the baseline is the namespace's, and only the last
// of them may restore it). Held by those faults; an entry whose faults are
// all gone is dropped, so the map stays as small as the live faults.
class MangleKeepers {
 public:
  // `state_dir` empty: baselines in memory only. `boot_id`: this kernel's
  // (current_boot_id(), read once), empty when unknown.
  MangleKeepers(std::string state_dir, std::string boot_id)
      : state_dir_(std::move(state_dir)), boot_id_(std::move(boot_id)) {}
  // `network_namespace` as /proc/PID/ns/net reads: "net:[4026532301]";
  // `namespace_cookie` is asked only when a keeper is made (the namespace's
  // cookie as text, "" unknown): it tells this namespace's baseline file from
  // that of an earlier one with the same inode.
  std::shared_ptr<MangleTableKeeper> keeper_for(const std::string& network_namespace,
                                                const std::function<std::string()>& namespace_cookie);

 private:
  std::string state_dir_;
  std::string boot_id_;
  std::mutex mutex_;
  std::map<std::string, std::weak_ptr<MangleTableKeeper>> keepers_;
};

// Where one fault acts. The host: the agent's own namespace, env.commands.
// A container (FaultContext::container): every tool through the container's
// runner (nsenter into its namespace), engine sockets opened inside its
// namespace, and its own mangle baseline.
struct NetworkSite {
  CommandRunner* commands = nullptr;
  int network_namespace_fd = -1;  // -1: the agent's own namespace
  std::string network_namespace;  // "" for the host
  std::shared_ptr<MangleTableKeeper> mangle;

  // Prefixes ScopeBook groups: scopes in different namespaces never share
  // packets, so they never overlap.
  std::string scope_group(const std::string& group) const {
    return network_namespace.empty() ? group : network_namespace + " " + group;
  }
};

struct NetworkRuntime : std::enable_shared_from_this<NetworkRuntime> {
  AgentEnvironment env;
  NetworkCapabilities capabilities;
  EngineStarter start_engine;
  // Per engine; see EngineOptions::max_held_bytes.
  std::size_t engine_max_held_bytes = kDefaultMaxHeldBytes;
  ScopeBook book;
  QueueNumbers queues;
  // Restores the host's mangle tables once the last steering chain is gone.
  std::shared_ptr<MangleTableKeeper> mangle;
  // The same for each container namespace a fault acts in.
  std::unique_ptr<MangleKeepers> container_mangle;
  // The agent's own namespace as /proc/self/ns/net reads ("net:[...]"): a
  // container that shares it (hostNetwork) is the host's site, so its
  // faults and the host's overlap and share one mangle baseline.
  std::string agent_network_namespace;

  NetworkSite site_of(const FaultContext& context);
};

}  // namespace chaos::agent::network
