// The network fault kinds, for registration in the agent's main:
//   network.delay, network.loss, network.partition, network.bandwidth,
//   network.duplicate, network.reorder.
// The first overload probes the kernel (a throw-away namespace; see
// backend_probe.h) to choose between netem and the NFQUEUE engine; the
// delay kind's backend() ("netem" or "nfqueue") is the value for
// CapabilitiesResponse.network_backend.
#pragma once

#include <memory>
#include <vector>

#include "agent/fault.h"
#include "agent/faults/network/backend_probe.h"
#include "agent/faults/network/network_runtime.h"

namespace chaos::agent {

// Limits the agent's config may set for every network fault.
struct NetworkFaultOptions {
  // Packet bytes one NFQUEUE engine (one fault) may hold in userspace;
  // packets over it wait in the kernel's fail-open queue instead and are
  // counted (EngineStats::over_cap).
  std::size_t engine_max_held_bytes = network::kDefaultMaxHeldBytes;
  // The agent's own network namespace ("net:[...]"); empty reads
  // /proc/self/ns/net. Tests name one.
  std::string agent_network_namespace;
};

std::vector<std::unique_ptr<FaultKind>> make_network_fault_kinds(const AgentEnvironment& env,
                                                                  const NetworkFaultOptions& options = {});

// For tests and callers that probed already; `start_engine` defaults to the
// real NfqueueEngine.
std::vector<std::unique_ptr<FaultKind>> make_network_fault_kinds(const AgentEnvironment& env,
                                                                  const network::NetworkCapabilities& capabilities,
                                                                  network::EngineStarter start_engine = nullptr,
                                                                  const NetworkFaultOptions& options = {});

}  // namespace chaos::agent
