// The worker processes of one stress fault (agent/faults/stress/
// worker_process.h), shared by stress.memory and a placed stress.cpu:
// spawned, optionally moved into a target's cgroup, and only then started,
// so no worker burns or allocates outside the cgroup it was meant for.
// All or nothing: a failure part-way kills every worker spawned so far.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "agent/faults/process/process_target.h"
#include "agent/faults/stress/stress_cgroup.h"
#include "agent/faults/stress/worker_process.h"

namespace chaos::agent::stress {

struct StressPlacement {
  int target_pid = 0;  // the process whose cgroup the workers join
  StressCgroup cgroup;
};

// What the family needs from the agent.
struct StressOptions {
  std::shared_ptr<const ProcessTargeting> targeting;  // null: placement is refused
  std::string cgroup_root = "/sys/fs/cgroup";
  std::string proc_root = "/proc";
};

// The cgroup of the process `target` names (or of the container's init
// when only the fault's container is given) for `resource`; nullopt when
// neither is set. `field` names the target in errors.
StatusOr<std::optional<StressPlacement>> resolve_stress_placement(const v1::ProcessTarget* target,
                                                                  const std::string& field,
                                                                  const FaultContext& context,
                                                                  const StressOptions& options,
                                                                  StressResource resource);

class StressWorkers {
 public:
  // Spawns one worker per job, places each, then starts them all.
  static StatusOr<std::unique_ptr<StressWorkers>> start(const std::string& kind, const std::vector<WorkerJob>& jobs,
                                                        const std::optional<StressPlacement>& placement,
                                                        const StressOptions& options);

  const std::vector<std::unique_ptr<WorkerProcess>>& workers() const { return workers_; }
  const std::optional<StressPlacement>& placement() const { return placement_; }
  // Kills and reaps every worker; idempotent.
  void stop();
  bool stopped() const { return stopped_; }
  // The first worker that ended although nobody stopped it, with how.
  struct Death {
    int pid = 0;
    std::string how;  // "was killed by SIGKILL"
    int wait_status = 0;
  };
  std::optional<Death> first_death();
  // The memory the workers that still run hold of their own (private
  // resident pages of /proc/PID/smaps_rollup, not the agent's pages they
  // share since the fork), in bytes.
  std::uint64_t resident_bytes() const;
  // Sum of user + system CPU time of the workers, from /proc (seconds).
  double cpu_seconds() const;
  // Workers whose /proc entry still names them (pid and start time).
  std::vector<int> alive() const;
  // "412,415"
  std::string pids() const;
  // {"workers": [{"pid": 412, "start_time": 9876}, ...]}
  nlohmann::json undo_record() const;

 private:
  StressWorkers(std::string kind, StressOptions options) : kind_(std::move(kind)), options_(std::move(options)) {}

  std::string kind_;
  StressOptions options_;
  std::optional<StressPlacement> placement_;
  std::vector<std::unique_ptr<WorkerProcess>> workers_;
  bool stopped_ = false;
};

// After a crash: SIGKILL every worker of an undo record that still runs
// (pid and start time both match, so a recycled pid is never hit).
// Idempotent; nothing found is success.
Status kill_recorded_workers(const std::string& kind, const nlohmann::json& undo_record, ProcessTable& table);
// The recorded workers that still run, or the evidence that none does.
StatusOr<std::string> recorded_workers_gone(const std::string& kind, const nlohmann::json& undo_record,
                                            ProcessTable& table);

// "64 MiB", "1.5 GiB", "512 KiB"
std::string format_bytes(std::uint64_t bytes);

}  // namespace chaos::agent::stress
