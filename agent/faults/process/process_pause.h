// process.pause: SIGSTOP to the target processes, SIGCONT on revert. The
// undo record lists each pid with its start time, so an agent restarted
// after a crash resumes exactly those processes and never a recycled pid.
//
// Backend "signal". The cgroup freezer is not used here: freezing a
// target's cgroup freezes its neighbours too, and moving targets into a
// cgroup of our own is not possible under every cgroup layout. Freezing a
// whole container is container.pause (agent/faults/container/).
//
// With FaultContext::container only the container's processes are targets
// (agent/faults/process/process_target.h, ProcessArea).
#pragma once

#include <memory>

#include "agent/fault.h"
#include "agent/faults/process/process_target.h"

namespace chaos::agent {

class ProcessPauseKind final : public FaultKind {
 public:
  explicit ProcessPauseKind(std::shared_ptr<const ProcessTargeting> targeting);

  std::string name() const override { return "process.pause"; }
  // SIGSTOP/SIGCONT to other users' processes.
  std::vector<std::string> required_capabilities() const override { return {"CAP_KILL"}; }
  Status validate(const v1::FaultSpec& spec) const override;
  StatusOr<std::unique_ptr<LiveFault>> apply(const v1::FaultSpec& spec, const FaultContext& context) override;
  // With an undo record: SIGCONT to each recorded pid whose start time still
  // matches. Without one (the crash came mid-apply): SIGCONT to every
  // stopped process that matches the target.
  Status recover(const v1::FaultSpec& spec, const FaultContext& context, const nlohmann::json& undo) override;
  // With FaultContext::container: only the container's processes.
  bool acts_in_containers() const override { return true; }
  std::string backend() const override { return "signal"; }
  // A stopped process does not outlive the kernel.
  bool effect_survives_reboot() const override { return false; }

 private:
  std::shared_ptr<const ProcessTargeting> targeting_;
};

}  // namespace chaos::agent
