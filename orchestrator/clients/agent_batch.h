// One RPC to many agents at once. The calls of gRPC clients all start
// together as async calls on one completion queue, drained by the calling
// thread: 1,000 agents cost 1,000 pending calls, not 1,000 threads. Each
// call has its own deadline, so an unreachable agent ends with its own
// DEADLINE_EXCEEDED / UNAVAILABLE and never delays the others. Clients
// without a gRPC side (the unit tests' fakes, a client whose channel could
// not be opened) are called with their synchronous methods through
// `fallback`, before the async calls start.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "orchestrator/clients/agent_client.h"

namespace chaos::orchestrator {

// Runs task(i) for i in [0, count) and returns when all have returned
// (BoundedFanOut::for_each in the run; a plain loop does too).
using AgentFallbackRunner = std::function<void(std::size_t, const std::function<void(std::size_t)>&)>;

// Results keep the order of `agents`; requests[i] goes to agents[i].
std::vector<StatusOr<v1::Fault>> inject_batch(const std::vector<AgentClient*>& agents,
                                              const std::vector<v1::InjectRequest>& requests,
                                              const AgentFallbackRunner& fallback);
std::vector<StatusOr<v1::RevertResponse>> revert_batch(const std::vector<AgentClient*>& agents,
                                                        const std::vector<std::string>& fault_ids,
                                                        const AgentFallbackRunner& fallback);
std::vector<StatusOr<v1::RevertAllResponse>> revert_all_batch(const std::vector<AgentClient*>& agents,
                                                              const std::string& experiment_id,
                                                              const AgentFallbackRunner& fallback);
std::vector<StatusOr<v1::RenewLeaseResponse>> renew_lease_batch(const std::vector<AgentClient*>& agents,
                                                                const std::string& lease_id,
                                                                std::chrono::nanoseconds ttl,
                                                                const AgentFallbackRunner& fallback);
std::vector<StatusOr<std::vector<v1::Fault>>> list_batch(const std::vector<AgentClient*>& agents,
                                                         const std::string& experiment_id, bool include_ended,
                                                         const AgentFallbackRunner& fallback);
std::vector<StatusOr<v1::CapabilitiesResponse>> capabilities_batch(const std::vector<AgentClient*>& agents,
                                                                   const AgentFallbackRunner& fallback);

}  // namespace chaos::orchestrator
