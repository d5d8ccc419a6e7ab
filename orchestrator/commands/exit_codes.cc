#include "orchestrator/commands/exit_codes.h"

namespace chaos::orchestrator {

AgentOutcome agent_outcome(const Status& status) {
  switch (status.code()) {
    case StatusCode::kOk: return AgentOutcome::kOk;
    case StatusCode::kUnavailable:
    case StatusCode::kDeadlineExceeded: return AgentOutcome::kUnreachable;
    case StatusCode::kPermissionDenied:  // also UNAUTHENTICATED (agent_client maps both)
    case StatusCode::kInvalidArgument:
    case StatusCode::kFailedPrecondition:
    case StatusCode::kResourceExhausted: return AgentOutcome::kRefused;
    default: return AgentOutcome::kFailed;
  }
}

int single_agent_exit_code(AgentOutcome outcome) {
  switch (outcome) {
    case AgentOutcome::kOk: return kExitOk;
    case AgentOutcome::kUnreachable: return kExitUnreachable;
    case AgentOutcome::kRefused: return kExitRefused;
    case AgentOutcome::kFailed: return kExitError;
  }
  return kExitError;
}

int fleet_exit_code(const std::vector<AgentOutcome>& outcomes) {
  size_t ok = 0;
  for (const AgentOutcome outcome : outcomes) ok += outcome == AgentOutcome::kOk ? 1 : 0;
  if (ok == outcomes.size()) return kExitOk;
  if (ok > 0) return kExitPartial;
  for (const AgentOutcome outcome : outcomes) {
    if (outcome != outcomes.front()) return kExitError;
  }
  return single_agent_exit_code(outcomes.front());
}

std::string exit_codes_help() {
  return "Exit codes: 0 ok; 1 run: hypothesis violated; 2 run: aborted or interrupted; 3 error (also a revert "
         "not confirmed); 4 usage: bad flags, arguments or inventory; 5 agent unreachable; 6 refused by the "
         "agent (policy, auth, invalid request); 7 partial: some agents failed.";
}

}  // namespace chaos::orchestrator
