// Which processes a process fault touches: by exact name, cmdline regex,
// pid or pidfile, optionally narrowed to a count or a percentage of the
// matches. The agent never signals pid 1, itself, its parent, kernel
// threads or a process its policy protects: a request whose matches include
// one is refused (PERMISSION_DENIED naming the process), never silently
// narrowed, so the caller learns exactly what it asked for.
#pragma once

#include <string>
#include <vector>

#include "agent/policy.h"
#include "agent/process_table.h"
#include "chaos/v1/agent.pb.h"
#include "common/clock.h"

namespace chaos::agent {

// What process faults need from the agent, shared by process.kill and
// process.pause.
struct ProcessTargeting {
  ProcessTable* table = nullptr;
  Clock* clock = nullptr;
  ProtectedProcesses protected_processes;
  ProcessScope scope = ProcessScope::kAll;
};

// Static checks; `field` is the proto path of the target, e.g.
// "process_kill.target". Errors are INVALID_ARGUMENT naming the sub-field.
Status validate_process_target(const v1::ProcessTarget& target, const std::string& field);

// The processes to signal now. NOT_FOUND when nothing matches,
// PERMISSION_DENIED when a match must never be signalled. `seed` makes the
// count/percent sample reproducible for one fault.
StatusOr<std::vector<ProcessInfo>> resolve_process_target(const v1::ProcessTarget& target, const std::string& field,
                                                          const ProcessTargeting& targeting, std::uint64_t seed);

// Every process the selector matches in scope, without sampling and without
// the protection checks (for recovery, which only ever resumes processes).
std::vector<ProcessInfo> match_process_target(const v1::ProcessTarget& target, const ProcessTargeting& targeting);

// "name 'nats-server'", "pid 412", ... for messages.
std::string describe_process_target(const v1::ProcessTarget& target);

// "412,415"
std::string join_pids(const std::vector<ProcessInfo>& processes);

}  // namespace chaos::agent
