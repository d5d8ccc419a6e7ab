// One client per agent address, created on first use, plus concurrent
// fan-out so a slow agent never delays the others (each call carries its own
// deadline, so a fan-out ends within ceil(agents / limit) deadlines).
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "orchestrator/clients/agent_batch.h"
#include "orchestrator/clients/agent_client.h"
#include "orchestrator/run/bounded_fan_out.h"

namespace chaos::orchestrator {

class AgentPool {
 public:
  explicit AgentPool(AgentClientFactory& factory, std::size_t max_concurrent_calls = BoundedFanOut::kDefaultLimit)
      : factory_(factory), fan_out_(max_concurrent_calls) {}

  AgentClient& client(const std::string& address);

  // Calls `work` once per address, at most max_concurrent_calls at a time;
  // results keep the order of `addresses`.
  template <typename Result>
  std::vector<Result> fan_out(const std::vector<std::string>& addresses,
                              const std::function<Result(AgentClient&)>& work) {
    std::vector<AgentClient*> agents;
    for (const auto& address : addresses) agents.push_back(&client(address));
    std::vector<std::optional<Result>> slots(agents.size());
    fan_out_.for_each(agents.size(), [&](std::size_t i) { slots[i].emplace(work(*agents[i])); });
    std::vector<Result> results;
    results.reserve(slots.size());
    for (auto& slot : slots) results.push_back(std::move(*slot));
    return results;
  }

  // The run's hot calls as one batch each: async gRPC calls on one
  // completion queue with a deadline per call (agent_batch.h), the bounded
  // threads only for clients without a gRPC side. Results keep the order
  // of `addresses`; inject and revert send item i to addresses[i] (an
  // address may repeat).
  std::vector<StatusOr<v1::Fault>> inject(const std::vector<std::string>& addresses,
                                          const std::vector<v1::InjectRequest>& requests);
  std::vector<StatusOr<v1::RevertResponse>> revert(const std::vector<std::string>& addresses,
                                                  const std::vector<std::string>& fault_ids);
  std::vector<StatusOr<v1::RevertAllResponse>> revert_all(const std::vector<std::string>& addresses,
                                                          const std::string& experiment_id);
  std::vector<StatusOr<v1::RenewLeaseResponse>> renew_lease(const std::vector<std::string>& addresses,
                                                            const std::string& lease_id, std::chrono::nanoseconds ttl);
  std::vector<StatusOr<std::vector<v1::Fault>>> list(const std::vector<std::string>& addresses,
                                                     const std::string& experiment_id, bool include_ended);
  std::vector<StatusOr<v1::CapabilitiesResponse>> capabilities(const std::vector<std::string>& addresses);

  // The same bound for calls that are not one per address (one per fault).
  void for_each(std::size_t count, const std::function<void(std::size_t)>& task) const {
    fan_out_.for_each(count, task);
  }

 private:
  std::vector<AgentClient*> clients_of(const std::vector<std::string>& addresses);
  AgentFallbackRunner fallback() const;

  AgentClientFactory& factory_;
  BoundedFanOut fan_out_;
  std::mutex mutex_;
  std::map<std::string, std::unique_ptr<AgentClient>> clients_;
};

}  // namespace chaos::orchestrator
