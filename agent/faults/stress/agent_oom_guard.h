// The agent protects itself from the OOM killer, so memory stress (its own
// workers run at oom_score_adj 1000) or a leaking broker on the node is
// killed first. -900, not -1000: an agent that itself leaks can still be
// killed as the last resort instead of the host locking up. Fixed, not
// configurable: there is no good reason to make the agent an easier victim.
#pragma once

#include <string>

#include "common/status.h"

namespace chaos::agent::stress {

inline constexpr int kAgentOomScoreAdj = -900;

// Writes kAgentOomScoreAdj to <proc_root>/self/oom_score_adj. Lowering it
// needs CAP_SYS_RESOURCE; the error says what failed so main can log it.
Status protect_agent_from_oom_killer(const std::string& proc_root = "/proc");

}  // namespace chaos::agent::stress
