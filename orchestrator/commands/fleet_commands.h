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
// kind, state, detail). The exit code is fleet_exit_code() of the agents'
// outcomes; an agent that answered with an unconfirmed fault failed.
int halt_fleet(AgentPool& pool, const std::vector<AgentEndpoint>& agents, bool json, std::ostream& out,
               std::ostream& err);

// Capabilities and live faults of every agent, with a count of the faults
// whose revert failed. The exit code is fleet_exit_code() of the agents'
// answers (both calls must succeed).
int show_agents(AgentPool& pool, const std::vector<AgentEndpoint>& agents, bool json, std::ostream& out);

}  // namespace chaos::orchestrator
