// disk.throttle: limits read/write bytes per second and IOPS of one process
// (or one container) on the block device behind a path, through the
// kernel's block I/O throttle: cgroup v1 blkio.throttle.*_device, or cgroup
// v2 io.max (agent/faults/disk/io_throttle_cgroups.h).
//
// A target process shares its cgroup with others (a systemd service, a
// lab node's shell), so it is moved alone into a child cgroup named after
// the fault ("chaos-<fault id>", below its own cgroup) that carries the
// limits; revert moves it, and anything it started meanwhile, back and
// removes the child. Without a process target, FaultSpec.target's container
// cgroup itself gets the limits, and revert restores the values it had.
//
// What the throttle slows: I/O the kernel charges to the cgroup when it is
// submitted. On cgroup v1 that is O_DIRECT I/O, reads that miss the page
// cache, and the writeback an fsync()/fdatasync()/O_DSYNC write starts in
// the caller's context; plain buffered writes land in the page cache at
// full speed and are written back later by the kernel's flusher threads,
// which v1 does not charge to the cgroup. cgroup v2 charges that writeback
// too. A broker that fsyncs (JetStream does) is slowed where it waits.
//
// Backend "blkio" (v1) or "io.max" (v2). Needs root: mkdir in the cgroup
// file system and moving another user's process.
#pragma once

#include <memory>
#include <string>

#include "agent/fault.h"
#include "agent/faults/disk/block_device.h"
#include "agent/faults/disk/io_throttle_cgroups.h"
#include "agent/faults/process/process_target.h"

namespace chaos::agent::disk {

// Bounds of the spec: below a page per second nothing but a hang is left
// to observe; above these nothing is throttled.
inline constexpr std::uint64_t kMinThrottleBytesPerSecond = 4096;
inline constexpr std::uint64_t kMaxThrottleBytesPerSecond = std::uint64_t{1} << 40;
inline constexpr std::uint64_t kMaxThrottleIops = 10'000'000;
inline constexpr std::size_t kMaxThrottlePathBytes = 4096;

// The limits a valid spec asks for; INVALID_ARGUMENT naming the field.
StatusOr<ThrottleLimits> throttle_limits_from_spec(const v1::FaultSpec& spec);

struct DiskThrottleOptions {
  std::string cgroup_root = "/sys/fs/cgroup";
  std::string proc_root = "/proc";
  std::string sys_root = "/sys";
};

class ThrottledCgroups;

class DiskThrottleKind final : public FaultKind {
 public:
  DiskThrottleKind(std::shared_ptr<const ProcessTargeting> targeting, DiskThrottleOptions options);

  std::string name() const override { return "disk.throttle"; }
  // Writing cgroup files and creating cgroups owned by root.
  std::vector<std::string> required_capabilities() const override { return {"CAP_DAC_OVERRIDE"}; }
  Status validate(const v1::FaultSpec& spec) const override;
  // FAILED_PRECONDITION when the path is on no block device, when no
  // throttle is usable, when the target matches more than one process or is
  // already in a chaos-* cgroup (another disk.throttle); PERMISSION_DENIED
  // for a container whose cgroup is the root or holds the agent.
  StatusOr<std::unique_ptr<LiveFault>> apply(const v1::FaultSpec& spec, const FaultContext& context) override;
  // With an undo record: what revert does. Without one (the crash came
  // mid-apply): every chaos-<id> cgroup emptied into its parent and
  // removed, and for a container target, the spec's limits cleared where
  // the container's cgroup holds exactly them.
  Status recover(const v1::FaultSpec& spec, const FaultContext& context, const nlohmann::json& undo) override;
  // Every chaos-<id> cgroup emptied into its parent and removed.
  Status recover_by_id(const FaultContext& context) override;
  // No chaos-<id> cgroup is left, and a recorded container cgroup holds
  // its previous limits again.
  StatusOr<std::string> verify_recovered(const FaultContext& context, const nlohmann::json& undo) override;
  bool acts_in_containers() const override { return true; }
  std::string backend() const override;
  // Throttle rules in the kernel's cgroups.
  bool effect_survives_reboot() const override { return false; }

 private:
  StatusOr<std::unique_ptr<LiveFault>> throttle_process(const v1::FaultSpec& spec, const FaultContext& context,
                                                        const BlockDevice& device, const ThrottleLimits& limits);
  StatusOr<std::unique_ptr<LiveFault>> throttle_container(const v1::FaultSpec& spec, const FaultContext& context,
                                                          const BlockDevice& device, const ThrottleLimits& limits);
  // The device of the spec's path, resolved inside the container's root when
  // the fault acts in one (block_device.h).
  StatusOr<BlockDevice> device_of_path(const v1::FaultSpec& spec, const FaultContext& context) const;
  Status remove_named_cgroups(const std::string& fault_id) const;

  std::shared_ptr<const ProcessTargeting> targeting_;
  DiskThrottleOptions options_;
  IoThrottleCgroups cgroups_;
  // Container cgroups (directory and device) under a live throttle of this
  // agent: a second one would restore the first one's limits on revert.
  std::shared_ptr<ThrottledCgroups> throttled_;
};

}  // namespace chaos::agent::disk
