// chaosctl's exit codes, one table for every subcommand (README's chaosctl
// section documents it; chaos-lab's codes in lab/lab_command.cc use the same
// numbers). 1 and 2 belong to `run` alone, so a script that gates on a run's
// verdict never mistakes an ad-hoc command's failure for one.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"

namespace chaos::orchestrator {

inline constexpr int kExitOk = 0;
inline constexpr int kExitViolated = 1;    // run: the hypothesis was violated
inline constexpr int kExitAborted = 2;     // run: an abort condition fired, or interrupted
inline constexpr int kExitError = 3;       // anything else, including a revert not confirmed
inline constexpr int kExitUsage = 4;       // bad flags, arguments or inventory; nothing was sent
inline constexpr int kExitUnreachable = 5; // no agent asked answered (UNAVAILABLE, DEADLINE_EXCEEDED)
inline constexpr int kExitRefused = 6;     // every agent asked answered and declined
inline constexpr int kExitPartial = 7;     // fan-out: some agents did what was asked, some did not

// What one agent's answer means. The agent was reached when it answered at
// all; "refused" covers every answer that declines the request as given
// (PERMISSION_DENIED, UNAUTHENTICATED, and INVALID_ARGUMENT,
// FAILED_PRECONDITION, RESOURCE_EXHAUSTED, which is how the agent reports
// its duration and live-fault limits and a target in use): sending the same
// request again is refused again.
enum class AgentOutcome { kOk, kUnreachable, kRefused, kFailed };

AgentOutcome agent_outcome(const Status& status);

// The exit code of a command that asked one agent.
int single_agent_exit_code(AgentOutcome outcome);

// The exit code of a command that asked several agents: 0 when all did what
// was asked, kExitPartial when some did, else the failures' common code
// (unreachable or refused), or kExitError when they failed differently.
int fleet_exit_code(const std::vector<AgentOutcome>& outcomes);

// The table as shown under --help.
std::string exit_codes_help();

}  // namespace chaos::orchestrator
