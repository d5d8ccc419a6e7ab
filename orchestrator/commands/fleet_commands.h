// The work of `chaosctl halt` and `chaosctl agents` on an AgentPool, apart
// from flag parsing and channels, so tests drive it with fake agents.
#pragma once

#include <ostream>
#include <vector>

#include "orchestrator/run/agent_pool.h"
#include "orchestrator/experiment/inventory.h"

namespace chaos::orchestrator {

// RevertAll("") on every agent. An agent confirms when the call succeeds
// and every fault it returns is REVERTED; each other fault is named (id,
// kind, state, detail). 0 when every agent confirmed, else 3.
int halt_fleet(AgentPool& pool, const std::vector<AgentEndpoint>& agents, bool json, std::ostream& out,
               std::ostream& err);

// Capabilities and live faults of every agent, with a count of the faults
// whose revert failed. 0 when every agent answered, else 3.
int show_agents(AgentPool& pool, const std::vector<AgentEndpoint>& agents, bool json, std::ostream& out);

}  // namespace chaos::orchestrator
