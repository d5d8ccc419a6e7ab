// State shared by every network fault kind of one agent: the environment,
// the probed capabilities, which live faults own which scope (to refuse
// overlaps), and which NFQUEUE numbers are in use.
//
// Concurrency: different faults apply, revert and recover at the same time
// on different threads. ScopeBook and QueueNumbers guard their maps with
// their own mutex and never run a command or touch a file under it; the
// MangleTableKeeper documents the one lock held across commands (see
// mangle_tables.h). Everything else here is set once at construction.
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

// NFQUEUE numbers are host-wide within a network namespace; we take ours
// from a fixed range and skip numbers another program has bound.
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

struct NetworkRuntime : std::enable_shared_from_this<NetworkRuntime> {
  AgentEnvironment env;
  NetworkCapabilities capabilities;
  EngineStarter start_engine;
  // Per engine; see EngineOptions::max_held_bytes.
  std::size_t engine_max_held_bytes = kDefaultMaxHeldBytes;
  ScopeBook book;
  QueueNumbers queues;
  // Restores the host's mangle tables once the last steering chain is gone.
  std::unique_ptr<MangleTableKeeper> mangle;
};

}  // namespace chaos::agent::network
