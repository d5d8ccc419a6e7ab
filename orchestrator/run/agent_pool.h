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

  // The same bound for calls that are not one per address (one per fault).
  void for_each(std::size_t count, const std::function<void(std::size_t)>& task) const {
    fan_out_.for_each(count, task);
  }

 private:
  AgentClientFactory& factory_;
  BoundedFanOut fan_out_;
  std::mutex mutex_;
  std::map<std::string, std::unique_ptr<AgentClient>> clients_;
};

}  // namespace chaos::orchestrator
