#include "agent/faults/disk/disk_fill_kind.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>

#include "agent/faults/disk/disk_fill_file.h"
#include "agent/policy.h"
#include "common/crash_point.h"
#include "common/unique_fd.h"

namespace chaos::agent::disk {

namespace {

// on_tick runs every 100 ms; looking for the file once a second is enough.
constexpr std::chrono::seconds kDiskFillDeletedCheckEvery{1};
constexpr std::size_t kDiskFillMaxFaultIdBytes = 128;

// The id becomes a file name: nothing that could leave the directory.
Status check_disk_fill_fault_id(const std::string& id) {
  if (id.empty() || id.size() > kDiskFillMaxFaultIdBytes) return invalid_argument("disk.fill: bad fault id length");
  for (unsigned char c : id) {
    if (!std::isalnum(c) && c != '-' && c != '_' && c != '.') {
      return invalid_argument("disk.fill: fault id '" + id + "' is not usable in a file name");
    }
  }
  return {};
}

enum class DiskFillFileState { kPresent, kAbsent };

StatusOr<DiskFillFileState> disk_fill_file_state(const std::string& file) {
  struct stat info {};
  if (::lstat(file.c_str(), &info) == 0) return DiskFillFileState::kPresent;
  if (errno == ENOENT) return DiskFillFileState::kAbsent;
  return internal_error("lstat " + file + ": " + std::strerror(errno));
}

Status delete_disk_fill_file(const std::string& file) {
  if (::unlink(file.c_str()) == 0 || errno == ENOENT) return {};
  return internal_error("disk.fill: cannot delete " + file + ": " + std::strerror(errno));
}

class LiveDiskFill final : public LiveFault {
 public:
  LiveDiskFill(std::string dir, std::string file, std::uint64_t target, DiskFillResult filled)
      : dir_(std::move(dir)), file_(std::move(file)), target_(target), filled_(filled) {}

  std::string backend() const override { return filled_.method == DiskFillMethod::kWrite ? "write" : "fallocate"; }

  // "filled /mnt/x to 10 MiB free (wrote 230 MiB)"
  std::string detail() const override {
    auto space = disk_space(dir_);
    const std::string free_text = space.ok() ? disk_fill_bytes_text(space->free_bytes) : std::string("?");
    return "filled " + dir_ + " to " + free_text + " free (wrote " + disk_fill_bytes_text(filled_.bytes) + ")";
  }

  nlohmann::json undo_record() const override { return {{"file", file_}, {"target_bytes", target_}}; }

  Status revert() override {
    crash_point("disk.fill: delete file");
    return delete_disk_fill_file(file_);
  }

  // Someone deleting the file gives the space back: the fault is over.
  Status on_tick(SteadyTime now) override {
    if (now < next_check_) return {};
    next_check_ = now + kDiskFillDeletedCheckEvery;
    auto state = disk_fill_file_state(file_);
    if (state.ok() && *state == DiskFillFileState::kAbsent) {
      return aborted("file_deleted: " + file_ + " was deleted by someone else; the filesystem has its space back");
    }
    return {};
  }

  StatusOr<FaultEffect> verify_live() override {
    struct stat info {};
    if (::lstat(file_.c_str(), &info) != 0 || !S_ISREG(info.st_mode)) {
      return failed_precondition("disk.fill: " + file_ + " is missing");
    }
    CHAOS_ASSIGN_OR_RETURN(const auto space, disk_space(dir_));
    const std::uint64_t allocated = static_cast<std::uint64_t>(info.st_blocks) * 512;
    FaultEffect effect;
    effect.impaired = space.free_bytes <= target_ + kDiskFillSlackBytes;
    effect.evidence = dir_ + ": " + disk_fill_bytes_text(space.free_bytes) + " free of " +
                      disk_fill_bytes_text(space.total_bytes) + " (target " + disk_fill_bytes_text(target_) + "), " +
                      file_ + " holds " + disk_fill_bytes_text(allocated);
    effect.counters = {{"free_bytes", space.free_bytes}, {"fill_bytes", allocated}, {"target_bytes", target_}};
    return effect;
  }

  // Only the file decides: space someone else took meanwhile is not ours to
  // give back, and a retried revert could not change it.
  StatusOr<std::string> verify_gone() override {
    CHAOS_ASSIGN_OR_RETURN(const auto state, disk_fill_file_state(file_));
    if (state == DiskFillFileState::kPresent) return failed_precondition("disk.fill: " + file_ + " is still there");
    auto space = disk_space(dir_);
    std::string evidence = file_ + " absent";
    if (space.ok()) {
      evidence += "; " + disk_fill_bytes_text(space->free_bytes) + " free" +
                  (space->free_bytes > target_ ? "" : " (still at the target: another writer uses the space)");
    }
    return evidence;
  }

 private:
  const std::string dir_;
  const std::string file_;
  const std::uint64_t target_;
  const DiskFillResult filled_;
  SteadyTime next_check_{};
};

}  // namespace

std::uint64_t DiskFillPlan::target_bytes(std::uint64_t total_bytes) const {
  if (leave_bytes) return *leave_bytes;
  return static_cast<std::uint64_t>(std::ceil(static_cast<long double>(total_bytes) * *leave_percent / 100));
}

StatusOr<DiskFillPlan> disk_fill_plan_from_spec(const v1::FaultSpec& spec) {
  if (!spec.has_disk_fill()) return invalid_argument("disk_fill: missing");
  const auto& proto = spec.disk_fill();
  DiskFillPlan plan;
  plan.path = proto.path();
  if (plan.path.empty()) return invalid_argument("disk_fill.path: required");
  if (plan.path.size() > kDiskFillMaxPathBytes) {
    return invalid_argument("disk_fill.path: at most " + std::to_string(kDiskFillMaxPathBytes) + " bytes");
  }
  if (plan.path.front() != '/') return invalid_argument("disk_fill.path: must be absolute, not '" + plan.path + "'");
  if (plan.path.find('\0') != std::string::npos) return invalid_argument("disk_fill.path: contains a NUL byte");
  switch (proto.leave_case()) {
    case v1::DiskFill::kLeaveBytes:
      if (proto.leave_bytes() > kDiskFillMaxLeaveBytes) return invalid_argument("disk_fill.leave_bytes: at most 1 EiB");
      plan.leave_bytes = proto.leave_bytes();
      break;
    case v1::DiskFill::kLeavePercent:
      if (!std::isfinite(proto.leave_percent()) || proto.leave_percent() < 0 || proto.leave_percent() >= 100) {
        return invalid_argument("disk_fill.leave_percent: must be in [0, 100)");
      }
      plan.leave_percent = proto.leave_percent();
      break;
    default:
      return invalid_argument("disk_fill: one of leave_bytes or leave_percent is required");
  }
  return plan;
}

StatusOr<std::string> disk_fill_dir(const std::string& path) {
  std::error_code error;
  const auto status = std::filesystem::status(path, error);
  if (error || !std::filesystem::exists(status)) return not_found("disk_fill.path: " + path + " does not exist");
  const std::filesystem::path normal = std::filesystem::path(path).lexically_normal();
  const auto named = std::filesystem::is_directory(status) ? normal : normal.parent_path();
  // Resolved, so the journaled file stays the one created even when a
  // symbolic link on the way is pointed elsewhere meanwhile (the lab's
  // stream-leader-store follows the leader).
  const auto dir = std::filesystem::canonical(named, error);
  if (error) return not_found("disk_fill.path: " + named.string() + ": " + error.message());
  return dir.string();
}

std::string disk_fill_file_path(const std::string& dir, const std::string& fault_id) {
  return (dir == "/" ? std::string() : dir) + "/" + kDiskFillFilePrefix + fault_id;
}

Status refuse_node_memory_filesystem(const std::string& path, const MountEntry& mount) {
  const bool system_mount = mount.mount_point == "/dev" || mount.mount_point.rfind("/dev/", 0) == 0 ||
                            mount.mount_point == "/run" || mount.mount_point.rfind("/run/", 0) == 0;
  if (mount.fs_type == "ramfs" || ((mount.fs_type == "tmpfs" || mount.fs_type == "devtmpfs") && system_mount)) {
    return permission_denied("disk_fill.path " + path + " is on the " + mount.fs_type + " mounted at " +
                             mount.mount_point + ": memory of the node, not a disk (stress.memory is the fault " +
                             "for memory)");
  }
  return {};
}

Status DiskFillKind::check_policy_limits(const Policy& policy, const v1::FaultSpec& spec) const {
  CHAOS_ASSIGN_OR_RETURN(const auto plan, disk_fill_plan_from_spec(spec));
  CHAOS_ASSIGN_OR_RETURN(const auto dir, disk_fill_dir(plan.path));
  CHAOS_ASSIGN_OR_RETURN(const auto mount, find_mount(dir, system_.mountinfo));
  CHAOS_RETURN_IF_ERROR(refuse_node_memory_filesystem(plan.path, mount));
  for (const auto& refused : policy.disk_fill_protected) {
    if (refused == mount.mount_point) {
      return permission_denied("policy: disk_fill.path " + plan.path + " is on the filesystem mounted at " +
                               mount.mount_point + ", which [policy] disk_fill_protected refuses");
    }
  }
  return {};
}

Status DiskFillKind::check_targets(const v1::FaultSpec& spec) {
  CHAOS_ASSIGN_OR_RETURN(const auto plan, disk_fill_plan_from_spec(spec));
  return disk_fill_dir(plan.path).status();
}

StatusOr<std::unique_ptr<LiveFault>> DiskFillKind::apply(const v1::FaultSpec& spec, const FaultContext& context) {
  CHAOS_ASSIGN_OR_RETURN(const auto plan, disk_fill_plan_from_spec(spec));
  CHAOS_RETURN_IF_ERROR(check_disk_fill_fault_id(context.fault_id));
  CHAOS_ASSIGN_OR_RETURN(const auto dir, disk_fill_dir(plan.path));
  CHAOS_ASSIGN_OR_RETURN(const auto space, disk_space(dir));
  const std::uint64_t target = plan.target_bytes(space.total_bytes);
  // A fault that changed nothing would read as "filled" all the same.
  if (space.free_bytes <= target) {
    return failed_precondition("disk.fill: " + dir + " already has only " + disk_fill_bytes_text(space.free_bytes) +
                               " free (asked to leave " + disk_fill_bytes_text(target) + "); nothing to fill");
  }
  const std::string file = disk_fill_file_path(dir, context.fault_id);
  UniqueFd fd(::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!fd.valid()) {
    const int error = errno;
    const std::string text = "disk.fill: cannot create " + file + ": " + std::strerror(error);
    return error == EACCES || error == EPERM ? permission_denied(text) : internal_error(text);
  }
  crash_point("disk.fill: allocate");  // the file exists, its undo record does not yet
  auto filled = fill_open_file(fd.get(), space.free_bytes - target, system_.try_fallocate, file);
  fd.reset();  // an open descriptor would keep the space taken after someone deletes the file
  if (!filled.ok()) {
    (void)delete_disk_fill_file(file);
    return filled.status();
  }
  return std::unique_ptr<LiveFault>(std::make_unique<LiveDiskFill>(dir, file, target, *filled));
}

StatusOr<std::string> DiskFillKind::leftover_file(const FaultContext& context, const v1::FaultSpec* spec,
                                                  const nlohmann::json& undo_record) const {
  CHAOS_RETURN_IF_ERROR(check_disk_fill_fault_id(context.fault_id));
  const std::string name = std::string(kDiskFillFilePrefix) + context.fault_id;
  if (undo_record.is_object() && undo_record.contains("file") && undo_record["file"].is_string()) {
    const std::string file = undo_record["file"].get<std::string>();
    // A journal is input too: only ever this fault's own file.
    if (file.size() <= kDiskFillMaxPathBytes + name.size() && !file.empty() && file.front() == '/' &&
        std::filesystem::path(file).filename() == name) {
      return file;
    }
    return invalid_argument("disk.fill: undo record names '" + file + "', not a " + name + " file");
  }
  if (spec != nullptr && spec->has_disk_fill()) {
    CHAOS_ASSIGN_OR_RETURN(const auto plan, disk_fill_plan_from_spec(*spec));
    auto dir = disk_fill_dir(plan.path);
    if (dir.status().code() == StatusCode::kNotFound) return not_found(plan.path + " is gone, and its file with it");
    CHAOS_RETURN_IF_ERROR(dir.status());
    return disk_fill_file_path(*dir, context.fault_id);
  }
  return not_found("disk.fill: no path to look for " + name + " at");
}

Status DiskFillKind::recover(const v1::FaultSpec& spec, const FaultContext& context,
                             const nlohmann::json& undo_record) {
  auto file = leftover_file(context, &spec, undo_record);
  if (file.status().code() == StatusCode::kNotFound) return {};  // the path is gone: nothing to delete
  CHAOS_RETURN_IF_ERROR(file.status());
  return delete_disk_fill_file(*file);
}

StatusOr<std::string> DiskFillKind::verify_recovered(const FaultContext& context, const nlohmann::json& undo_record) {
  auto file = leftover_file(context, context.spec, undo_record);
  if (file.status().code() == StatusCode::kNotFound) return std::string("no fill file: ") + file.status().message();
  CHAOS_RETURN_IF_ERROR(file.status());
  CHAOS_ASSIGN_OR_RETURN(const auto state, disk_fill_file_state(*file));
  if (state == DiskFillFileState::kPresent) return failed_precondition("disk.fill: " + *file + " is still there");
  return *file + " absent";
}

Status DiskFillKind::recover_by_id(const FaultContext& context) {
  // Without a spec there is no path, and no walk of every filesystem.
  if (context.spec == nullptr || !context.spec->has_disk_fill()) {
    return unimplemented("disk.fill: the fill file's path is only in the journal entry");
  }
  return recover(*context.spec, context, nlohmann::json());
}

}  // namespace chaos::agent::disk
