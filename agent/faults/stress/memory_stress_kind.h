// stress.memory: `workers` child processes of the agent allocate and touch
// `bytes` (or `percent` of MemAvailable) between them and hold it until
// reverted, optionally inside the memory cgroup of a target process, where
// they compete with it for its limit. The workers are the OOM killer's
// preferred victims; one killed ends the fault with the reason (on_tick,
// ABORTED "worker_died: ..."), never a restart.
//
// Backend "processes". The workers exit when the agent dies (end-of-file on
// their control pipe); recovery kills any survivor named in the undo record
// by pid and start time.
#pragma once

#include <optional>

#include "agent/fault.h"
#include "agent/faults/stress/stress_workers.h"
#include "agent/policy.h"

namespace chaos::agent::stress {

inline constexpr unsigned kMaxMemoryWorkers = 16;
inline constexpr std::uint64_t kMinStressMemoryBytes = 1ULL << 20;
inline constexpr std::uint64_t kMaxStressMemoryBytes = 1ULL << 40;

struct MemoryStressPlan {
  std::uint64_t bytes = 0;  // set, or
  double percent = 0;       // of MemAvailable, resolved at apply
  unsigned workers = 1;
};

// INVALID_ARGUMENT naming the field, or the plan.
StatusOr<MemoryStressPlan> memory_stress_plan_from_spec(const v1::FaultSpec& spec);

// MemAvailable of <proc_root>/meminfo, in bytes.
StatusOr<std::uint64_t> read_mem_available(const std::string& proc_root);

// The policy's max_memory_bytes / max_memory_percent against what `plan`
// asks for, a percent resolved against `mem_available` (and bytes compared
// with the percent limit the same way). PERMISSION_DENIED "policy: ...".
Status check_memory_limits(const Policy& policy, const MemoryStressPlan& plan,
                           std::optional<std::uint64_t> mem_available);

class MemoryStressKind final : public FaultKind {
 public:
  explicit MemoryStressKind(StressOptions options = {}) : options_(std::move(options)) {}
  std::string name() const override { return "stress.memory"; }
  Status validate(const v1::FaultSpec& spec) const override;
  // Resolves a percent (and a bytes against a percent limit) with the
  // MemAvailable of now: the registry asks right before apply.
  Status check_policy_limits(const Policy& policy, const v1::FaultSpec& spec) const override;
  Status check_targets(const v1::FaultSpec& spec) override;
  StatusOr<std::unique_ptr<LiveFault>> apply(const v1::FaultSpec& spec, const FaultContext& context) override;
  Status recover(const v1::FaultSpec& spec, const FaultContext& context, const nlohmann::json& undo_record) override;
  StatusOr<std::string> verify_recovered(const FaultContext& context, const nlohmann::json& undo_record) override;
  // Workers whose agent died exit on their own (end-of-file on the pipe).
  Status recover_by_id(const FaultContext&) override { return {}; }
  bool acts_in_containers() const override { return true; }
  std::string backend() const override { return "processes"; }
  // Worker processes and their cgroup.
  bool effect_survives_reboot() const override { return false; }
  // None: forking, raising a worker's own oom_score_adj and killing its own
  // children need no capability. (The agent lowers its own oom_score_adj
  // with CAP_SYS_RESOURCE where it has it and says so where it has not: the
  // workers at 1000 are the OOM killer's first choice either way.)

 private:
  ProcessTable& table();

  StressOptions options_;
  std::unique_ptr<ProcessTable> own_table_;
};

}  // namespace chaos::agent::stress
