#include "orchestrator/run/agent_pool.h"

namespace chaos::orchestrator {

AgentClient& AgentPool::client(const std::string& address) {
  std::lock_guard lock(mutex_);
  auto& slot = clients_[address];
  if (!slot) slot = factory_.connect(address);
  return *slot;
}

}  // namespace chaos::orchestrator
