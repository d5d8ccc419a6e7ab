// Which processes a process fault touches: by exact name, cmdline regex,
// pid or pidfile, optionally narrowed to a count or a percentage of the
// matches. The agent never signals pid 1, itself, its parent, kernel
// threads or a process its policy protects: a request whose matches include
// one is refused (PERMISSION_DENIED naming the process), never silently
// narrowed, so the caller learns exactly what it asked for.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "agent/fault.h"
#include "agent/policy.h"
#include "agent/process_table.h"
#include "chaos/v1/agent.pb.h"
#include "common/bounded_regex.h"
#include "common/clock.h"

namespace chaos::agent {

// What process faults need from the agent, shared by process.kill and
// process.pause.
struct ProcessTargeting {
  ProcessTable* table = nullptr;
  Clock* clock = nullptr;
  ProtectedProcesses protected_processes;
  ProcessScope scope = ProcessScope::kAll;
  // How long the effect checks wait for signalled processes to exit, stop
  // or resume before they call the fault not in effect.
  Duration effect_timeout = std::chrono::seconds(5);
};

// Where a process fault looks for its targets: the agent's host, or one
// container (FaultContext::container). In a container only the processes of
// its pid namespace are candidates, whatever --process-scope says; pid
// keeps naming a host pid (which must be in the container), and a pidfile
// is read from the container's filesystem and holds a pid of its namespace.
struct ProcessArea {
  std::uint64_t pid_namespace = 0;  // inode of the container's /proc/PID/ns/pid; 0: the host
  std::string root_path;            // the container's root as the agent sees it ("/proc/PID/root")
  std::string name;                 // "container podman nats-1 (3f2a9c1b7e44)", for messages

  bool in_container() const { return pid_namespace != 0; }
};

// The area `context` names: the host, or the pid namespace of the
// container's init process. NOT_FOUND when that init is gone (the container
// stopped or restarted since it was resolved).
StatusOr<ProcessArea> process_area_of(const FaultContext& context, ProcessTable& table);

// A target that passed the static checks, with its cmdline regex compiled
// (RE2, searched in the cmdline; see common/bounded_regex.h). process.kill
// keeps one for the fault's life and re-resolves it every interval without
// compiling again.
class ProcessSelector {
 public:
  // Static checks (no system access); `field` is the proto path of the
  // target, e.g. "process_kill.target". Errors are INVALID_ARGUMENT naming
  // the sub-field ("process_kill.target.cmdline_regex: invalid regex: ...").
  static StatusOr<ProcessSelector> compile(const v1::ProcessTarget& target, std::string field);

  const v1::ProcessTarget& target() const { return target_; }
  const std::string& field() const { return field_; }
  // Set exactly when the selector is cmdline_regex.
  const std::optional<BoundedRegex>& cmdline_regex() const { return cmdline_regex_; }

 private:
  ProcessSelector(v1::ProcessTarget target, std::string field, std::optional<BoundedRegex> regex);

  v1::ProcessTarget target_;
  std::string field_;
  std::optional<BoundedRegex> cmdline_regex_;
};

// ProcessSelector::compile's checks alone.
Status validate_process_target(const v1::ProcessTarget& target, const std::string& field);

// The processes to signal now. NOT_FOUND when nothing matches,
// PERMISSION_DENIED when a match must never be signalled,
// FAILED_PRECONDITION when a pidfile is not a small regular file holding a
// pid. `seed` makes the count/percent sample reproducible for one fault.
// Never blocks: /proc reads are bounded and a pidfile is opened
// non-blocking (agent/faults/process/pidfile.h).
StatusOr<std::vector<ProcessInfo>> resolve_process_target(const ProcessSelector& selector,
                                                          const ProcessTargeting& targeting, std::uint64_t seed,
                                                          const ProcessArea& area = {});
// Compiles `target` first (for one-off resolutions).
StatusOr<std::vector<ProcessInfo>> resolve_process_target(const v1::ProcessTarget& target, const std::string& field,
                                                          const ProcessTargeting& targeting, std::uint64_t seed,
                                                          const ProcessArea& area = {});

// Every process the selector matches in scope, without sampling and without
// the protection checks (for recovery, which only ever resumes processes).
// Empty when the target is invalid.
std::vector<ProcessInfo> match_process_target(const v1::ProcessTarget& target, const ProcessTargeting& targeting,
                                              const ProcessArea& area = {});

// "name 'nats-server'", "pid 412", ... for messages.
std::string describe_process_target(const v1::ProcessTarget& target);

// "412,415"
std::string join_pids(const std::vector<ProcessInfo>& processes);

}  // namespace chaos::agent
