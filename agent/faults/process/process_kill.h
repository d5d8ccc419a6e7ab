// process.kill: sends a signal (default SIGKILL) to the target processes,
// once or every `interval` while the fault lives - the target is resolved
// again each round, so a broker that a supervisor restarted is killed again.
// A signal cannot be taken back: revert only stops the repetition.
#pragma once

#include <memory>

#include "agent/fault.h"
#include "agent/faults/process/process_target.h"

namespace chaos::agent {

class ProcessKillKind final : public FaultKind {
 public:
  explicit ProcessKillKind(std::shared_ptr<const ProcessTargeting> targeting);

  std::string name() const override { return "process.kill"; }
  // Signals to other users' processes.
  std::vector<std::string> required_capabilities() const override { return {"CAP_KILL"}; }
  Status validate(const v1::FaultSpec& spec) const override;
  StatusOr<std::unique_ptr<LiveFault>> apply(const v1::FaultSpec& spec, const FaultContext& context) override;
  Status recover(const v1::FaultSpec& spec, const FaultContext& context, const nlohmann::json& undo) override;
  // With FaultContext::container: only the container's processes.
  bool acts_in_containers() const override { return true; }
  std::string backend() const override { return "signal"; }
  // A signal; nothing of it is on disk.
  bool effect_survives_reboot() const override { return false; }

 private:
  std::shared_ptr<const ProcessTargeting> targeting_;
};

}  // namespace chaos::agent
