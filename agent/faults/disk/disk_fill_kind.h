// disk.fill: the filesystem holding a path filled until N bytes (or N% of
// it) are left, by a file `.chaos-fill-<fault id>` in the path's directory
// (agent/faults/disk/disk_fill_file.h fills it). Revert deletes the file.
//
// The file's path is the undo record, so a later agent deletes it after a
// crash; without a journal entry to read it from (a corrupt one) nothing
// can find it short of walking every filesystem, which the agent never does:
// recover_by_id() then needs the spec, or says UNIMPLEMENTED.
//
// Backend "fallocate" ("write" where the filesystem has no fallocate).
#pragma once

#include <cstdint>
#include <optional>

#include "agent/fault.h"
#include "agent/faults/disk/mount_table.h"

namespace chaos::agent::disk {

inline constexpr std::size_t kDiskFillMaxPathBytes = 4096;
inline constexpr std::uint64_t kDiskFillMaxLeaveBytes = 1ULL << 60;  // 1 EiB
inline constexpr const char* kDiskFillFilePrefix = ".chaos-fill-";
// Free space this close to the target counts as filled: fallocate rounds to
// whole blocks and the filesystem takes some for the file's own metadata.
inline constexpr std::uint64_t kDiskFillSlackBytes = 1024 * 1024;

struct DiskFillPlan {
  std::string path;
  std::optional<std::uint64_t> leave_bytes;
  std::optional<double> leave_percent;

  // The free bytes to leave on a filesystem of `total_bytes`.
  std::uint64_t target_bytes(std::uint64_t total_bytes) const;
};

// INVALID_ARGUMENT naming the field, or the plan.
StatusOr<DiskFillPlan> disk_fill_plan_from_spec(const v1::FaultSpec& spec);

// `path` itself when it is a directory, else its parent, with every symbolic
// link resolved; NOT_FOUND when it does not exist.
StatusOr<std::string> disk_fill_dir(const std::string& path);
// "<dir>/.chaos-fill-<fault id>".
std::string disk_fill_file_path(const std::string& dir, const std::string& fault_id);

// PERMISSION_DENIED when `mount` is the node's memory rather than a disk: a
// fill there takes RAM the kernel cannot reclaim, charged to the agent,
// which the OOM killer spares. ramfs has no size limit at all; the tmpfs
// and devtmpfs under /dev and /run (shared memory, sockets, every daemon's
// pid files) are half the RAM by default. A tmpfs mounted elsewhere has the
// size its owner gave it and is a disk to fill. Checked whatever
// disk_fill_protected says.
Status refuse_node_memory_filesystem(const std::string& path, const MountEntry& mount);

// What the kind reads from the system, replaceable in tests.
struct DiskFillSystem {
  MountinfoReader mountinfo = system_mountinfo_reader();
  bool try_fallocate = true;
};

class DiskFillKind final : public FaultKind {
 public:
  explicit DiskFillKind(DiskFillSystem system = {}) : system_(std::move(system)) {}

  std::string name() const override { return "disk.fill"; }
  Status validate(const v1::FaultSpec& spec) const override { return disk_fill_plan_from_spec(spec).status(); }
  // PERMISSION_DENIED when the filesystem holding the path is mounted on
  // one of [policy] disk_fill_protected.
  Status check_policy_limits(const Policy& policy, const v1::FaultSpec& spec) const override;
  Status check_targets(const v1::FaultSpec& spec) override;
  StatusOr<std::unique_ptr<LiveFault>> apply(const v1::FaultSpec& spec, const FaultContext& context) override;
  Status recover(const v1::FaultSpec& spec, const FaultContext& context, const nlohmann::json& undo_record) override;
  StatusOr<std::string> verify_recovered(const FaultContext& context, const nlohmann::json& undo_record) override;
  Status recover_by_id(const FaultContext& context) override;
  std::string backend() const override { return "fallocate"; }
  // The fill file is on disk, so its records are flushed before the call goes on.
  bool effect_survives_reboot() const override { return true; }

 private:
  // The fill file a crashed fault may have left: the undo record's, else
  // the one the spec names. NOT_FOUND when neither tells.
  StatusOr<std::string> leftover_file(const FaultContext& context, const v1::FaultSpec* spec,
                                      const nlohmann::json& undo_record) const;

  DiskFillSystem system_;
};

}  // namespace chaos::agent::disk
