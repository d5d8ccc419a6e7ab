// One client per agent address, created on first use, plus concurrent
// fan-out so a slow agent never delays the others (each call carries its own
// deadline, so a fan-out ends within one deadline).
#pragma once

#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "orchestrator/agent_client.h"

namespace chaos::orchestrator {

class AgentPool {
 public:
  explicit AgentPool(AgentClientFactory& factory) : factory_(factory) {}

  AgentClient& client(const std::string& address);

  // Calls `work` for every address on its own thread; results keep the
  // order of `addresses`.
  template <typename Result>
  std::vector<Result> fan_out(const std::vector<std::string>& addresses,
                              const std::function<Result(AgentClient&)>& work) {
    std::vector<std::future<Result>> pending;
    for (const auto& address : addresses) {
      AgentClient& agent = client(address);
      pending.push_back(std::async(std::launch::async, [&work, &agent] { return work(agent); }));
    }
    std::vector<Result> results;
    for (auto& future : pending) results.push_back(future.get());
    return results;
  }

 private:
  AgentClientFactory& factory_;
  std::mutex mutex_;
  std::map<std::string, std::unique_ptr<AgentClient>> clients_;
};

}  // namespace chaos::orchestrator
