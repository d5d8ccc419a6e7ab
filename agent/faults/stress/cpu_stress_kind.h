// stress.cpu: `workers` threads of the agent keep CPUs busy at a duty
// cycle (agent/faults/stress/cpu_burner.h) until reverted, competing with
// the broker for the node's CPUs.
//
// Backend "threads": nothing outlives the agent process. Placed (a process
// target, or a container as FaultSpec.target) the workers are child
// processes in the target's cpu cgroup instead (agent/faults/stress/
// stress_workers.h), so they compete with it inside its CPU limits; they
// exit when the agent dies, and recovery kills survivors it recorded.
#pragma once

#include "agent/fault.h"
#include "agent/faults/stress/stress_workers.h"

namespace chaos::agent::stress {

// Bounds of the spec: more workers than this is a mistake, not an
// experiment, and each one is a thread of the agent.
inline constexpr unsigned kMaxWorkers = 64;

struct CpuStressPlan {
  unsigned workers = 1;
  double load = 1.0;  // fraction of each period a worker is busy
  bool targeted = false;  // stress_cpu.target is set
};

// INVALID_ARGUMENT naming the field, or the plan (zeros mean the defaults).
StatusOr<CpuStressPlan> cpu_stress_plan_from_spec(const v1::FaultSpec& spec);

class CpuStressKind final : public FaultKind {
 public:
  explicit CpuStressKind(StressOptions options = {}) : options_(std::move(options)) {}
  std::string name() const override { return "stress.cpu"; }
  Status validate(const v1::FaultSpec& spec) const override { return cpu_stress_plan_from_spec(spec).status(); }
  Status check_targets(const v1::FaultSpec& spec) override;
  StatusOr<std::unique_ptr<LiveFault>> apply(const v1::FaultSpec& spec, const FaultContext& context) override;
  // Threads died with the agent; placed workers exit at end-of-file on their
  // control pipe, and any the undo record names that still runs is killed.
  Status recover(const v1::FaultSpec& spec, const FaultContext& context, const nlohmann::json& undo_record) override;
  StatusOr<std::string> verify_recovered(const FaultContext& context, const nlohmann::json& undo_record) override;
  Status recover_by_id(const FaultContext&) override { return {}; }
  bool acts_in_containers() const override { return true; }
  std::string backend() const override { return "threads"; }
  // The burner threads and their cgroup.
  bool effect_survives_reboot() const override { return false; }

 private:
  ProcessTable& table();

  StressOptions options_;
  std::unique_ptr<ProcessTable> own_table_;
};

}  // namespace chaos::agent::stress
