// container.pause: freezes every process of each target container through
// its cgroup's freezer (agent/faults/container/cgroup_freezer.h), thaws it
// on revert. Unlike process.pause (SIGSTOP), a frozen process cannot tell:
// no SIGCHLD reaches its parent, and processes the container starts while
// it is frozen are frozen too. Backend "freezer".
//
// Needs FaultSpec.target (ContainerTargetingKind resolves it and applies
// this kind once per container). A container that stops while frozen takes
// its cgroup with it: revert and recovery then find nothing to thaw, which
// is success.
#pragma once

#include <memory>
#include <string>

#include "agent/fault.h"
#include "agent/faults/container/cgroup_freezer.h"
#include "common/clock.h"

namespace chaos::agent {

// Where the host's cgroup file systems are seen from the agent:
// /sys/fs/cgroup, unless the agent's own mount namespace hides them (`ip
// netns exec` mounts a fresh /sys without them; so can a container), then
// through pid 1's root, /proc/1/root/sys/fs/cgroup (hostPID).
std::string host_cgroup_root();

struct ContainerPauseOptions {
  std::string cgroup_root = host_cgroup_root();
  std::string proc_root = "/proc";
  // How long the effect checks wait for the kernel to report the cgroup
  // frozen (or thawed) before they call the fault not in effect.
  Duration effect_timeout = std::chrono::seconds(5);
};

class ContainerPauseKind final : public FaultKind {
 public:
  explicit ContainerPauseKind(ContainerPauseOptions options = {});

  std::string name() const override { return "container.pause"; }
  // The container's cgroup files belong to root.
  std::vector<std::string> required_capabilities() const override { return {"CAP_DAC_OVERRIDE"}; }
  Status validate(const v1::FaultSpec& spec) const override;
  // FAILED_PRECONDITION without FaultContext::container, for a cgroup that
  // is already frozen (podman pause, another fault: its revert would thaw
  // what someone else froze) and when neither freezer is usable;
  // PERMISSION_DENIED for the root cgroup and the agent's own cgroup or
  // one above it (a frozen agent could never thaw anything).
  StatusOr<std::unique_ptr<LiveFault>> apply(const v1::FaultSpec& spec, const FaultContext& context) override;
  // Thaws the recorded cgroup; without a record (the crash came
  // mid-apply), the cgroup of the container's init.
  Status recover(const v1::FaultSpec& spec, const FaultContext& context, const nlohmann::json& undo) override;
  StatusOr<std::string> verify_recovered(const FaultContext& context, const nlohmann::json& undo) override;
  bool acts_in_containers() const override { return true; }
  bool needs_container_target() const override { return true; }
  std::string backend() const override { return "freezer"; }
  // A frozen cgroup.
  bool effect_survives_reboot() const override { return false; }

 private:
  // The cgroup an undo record names, or the container init's.
  StatusOr<FreezerCgroup> recorded_cgroup(const FaultContext& context, const nlohmann::json& undo) const;

  ContainerPauseOptions options_;
  CgroupFreezer freezer_;
};

}  // namespace chaos::agent
