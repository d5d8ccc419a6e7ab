#include "orchestrator/run/agent_pool.h"

namespace chaos::orchestrator {

AgentClient& AgentPool::client(const std::string& address) {
  std::lock_guard lock(mutex_);
  auto& slot = clients_[address];
  if (!slot) slot = factory_.connect(address);
  return *slot;
}

std::vector<AgentClient*> AgentPool::clients_of(const std::vector<std::string>& addresses) {
  std::vector<AgentClient*> agents;
  agents.reserve(addresses.size());
  for (const auto& address : addresses) agents.push_back(&client(address));
  return agents;
}

AgentFallbackRunner AgentPool::fallback() const {
  return [this](std::size_t count, const std::function<void(std::size_t)>& task) { fan_out_.for_each(count, task); };
}

std::vector<StatusOr<v1::Fault>> AgentPool::inject(const std::vector<std::string>& addresses,
                                                   const std::vector<v1::InjectRequest>& requests) {
  return inject_batch(clients_of(addresses), requests, fallback());
}

std::vector<StatusOr<v1::RevertResponse>> AgentPool::revert(const std::vector<std::string>& addresses,
                                                           const std::vector<std::string>& fault_ids) {
  return revert_batch(clients_of(addresses), fault_ids, fallback());
}

std::vector<StatusOr<v1::RevertAllResponse>> AgentPool::revert_all(const std::vector<std::string>& addresses,
                                                                   const std::string& experiment_id) {
  return revert_all_batch(clients_of(addresses), experiment_id, fallback());
}

std::vector<StatusOr<v1::RenewLeaseResponse>> AgentPool::renew_lease(const std::vector<std::string>& addresses,
                                                                     const std::string& lease_id,
                                                                     std::chrono::nanoseconds ttl) {
  return renew_lease_batch(clients_of(addresses), lease_id, ttl, fallback());
}

std::vector<StatusOr<std::vector<v1::Fault>>> AgentPool::list(const std::vector<std::string>& addresses,
                                                              const std::string& experiment_id, bool include_ended) {
  return list_batch(clients_of(addresses), experiment_id, include_ended, fallback());
}

std::vector<StatusOr<v1::CapabilitiesResponse>> AgentPool::capabilities(const std::vector<std::string>& addresses) {
  return capabilities_batch(clients_of(addresses), fallback());
}

}  // namespace chaos::orchestrator
