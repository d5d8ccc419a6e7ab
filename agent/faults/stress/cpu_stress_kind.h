// stress.cpu: `workers` threads of the agent keep CPUs busy at a duty
// cycle (agent/faults/stress/cpu_burner.h) until reverted, competing with
// the broker for the node's CPUs.
//
// Backend "threads". Nothing outlives the agent process: a crash ends the
// workers with it, so recovery has nothing to undo.
#pragma once

#include "agent/fault.h"

namespace chaos::agent::stress {

// Bounds of the spec: more workers than this is a mistake, not an
// experiment, and each one is a thread of the agent.
inline constexpr unsigned kMaxWorkers = 64;

struct CpuStressPlan {
  unsigned workers = 1;
  double load = 1.0;  // fraction of each period a worker is busy
};

// INVALID_ARGUMENT naming the field, or the plan (zeros mean the defaults).
StatusOr<CpuStressPlan> cpu_stress_plan_from_spec(const v1::FaultSpec& spec);

class CpuStressKind final : public FaultKind {
 public:
  std::string name() const override { return "stress.cpu"; }
  Status validate(const v1::FaultSpec& spec) const override { return cpu_stress_plan_from_spec(spec).status(); }
  StatusOr<std::unique_ptr<LiveFault>> apply(const v1::FaultSpec& spec, const FaultContext& context) override;
  // The workers died with the agent that ran them.
  Status recover(const v1::FaultSpec&, const FaultContext&, const nlohmann::json&) override { return {}; }
  Status recover_by_id(const FaultContext&) override { return {}; }
  std::string backend() const override { return "threads"; }
};

}  // namespace chaos::agent::stress
