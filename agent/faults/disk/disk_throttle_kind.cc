#include "agent/faults/disk/disk_throttle_kind.h"

#include <mutex>
#include <set>
#include <thread>

#include "agent/faults/process/process_signalling.h"
#include "agent/rollback_stack.h"
#include "agent/targets/container_selector_checks.h"

namespace chaos::agent::disk {

// The set behind DiskThrottleKind::throttled_; a live fault keeps it alive
// and takes its entry out on revert.
class ThrottledCgroups {
 public:
  bool claim(const std::string& key) {
    std::lock_guard lock(mutex_);
    return keys_.insert(key).second;
  }
  void release(const std::string& key) {
    std::lock_guard lock(mutex_);
    keys_.erase(key);
  }

 private:
  std::mutex mutex_;
  std::set<std::string> keys_;
};

namespace {

constexpr char kDiskThrottleCgroupPrefix[] = "chaos-";
constexpr std::size_t kDiskThrottleMaxFaultIdBytes = 64;
// How often on_tick looks whether the throttled process still lives.
constexpr std::chrono::seconds kDiskThrottleTargetCheckInterval{1};
constexpr int kDiskThrottleEmptyRounds = 20;

// Everything revert and recovery need, journaled as the undo record.
struct DiskThrottleRecord {
  CgroupVersion version = CgroupVersion::kV1;
  DeviceNumber device;
  bool child = true;       // a chaos-<id> cgroup of ours; else a container's own cgroup
  std::string cgroup;      // the cgroup carrying the limits
  std::string original;    // child: where the process was, and goes back to
  int pid = 0;             // child: the moved process
  std::uint64_t start_time = 0;
  std::string comm;
  std::string container;   // container: for people
  ThrottleLimits limits;    // what the throttled cgroup holds while live
  ThrottleLimits previous;  // container: what it held before

  std::string target_text() const {
    if (!child) return "container " + container;
    return "pid " + std::to_string(pid) + (comm.empty() ? "" : " (" + comm + ")");
  }
};

nlohmann::json throttle_limits_json(const ThrottleLimits& limits) {
  return {{"read_bps", limits.read_bps},
          {"write_bps", limits.write_bps},
          {"read_iops", limits.read_iops},
          {"write_iops", limits.write_iops}};
}

ThrottleLimits throttle_limits_from_json(const nlohmann::json& json) {
  ThrottleLimits limits;
  limits.read_bps = json.at("read_bps").get<std::uint64_t>();
  limits.write_bps = json.at("write_bps").get<std::uint64_t>();
  limits.read_iops = json.at("read_iops").get<std::uint64_t>();
  limits.write_iops = json.at("write_iops").get<std::uint64_t>();
  return limits;
}

nlohmann::json throttle_record_json(const DiskThrottleRecord& record) {
  return {{"cgroup_version", cgroup_version_name(record.version)},
          {"device", record.device.text()},
          {"mode", record.child ? "process" : "container"},
          {"cgroup", record.cgroup},
          {"original_cgroup", record.original},
          {"pid", record.pid},
          {"start_time", record.start_time},
          {"comm", record.comm},
          {"container", record.container},
          {"limits", throttle_limits_json(record.limits)},
          {"previous", throttle_limits_json(record.previous)}};
}

StatusOr<DiskThrottleRecord> throttle_record_from_json(const nlohmann::json& json) {
  DiskThrottleRecord record;
  try {
    const std::string version = json.at("cgroup_version").get<std::string>();
    if (version != "v1" && version != "v2") return invalid_argument("cgroup_version '" + version + "'");
    record.version = version == "v1" ? CgroupVersion::kV1 : CgroupVersion::kV2;
    CHAOS_ASSIGN_OR_RETURN(record.device, parse_device_number(json.at("device").get<std::string>()));
    record.child = json.at("mode").get<std::string>() == "process";
    record.cgroup = json.at("cgroup").get<std::string>();
    record.original = json.value("original_cgroup", "");
    record.pid = json.value("pid", 0);
    record.start_time = json.value("start_time", std::uint64_t{0});
    record.comm = json.value("comm", "");
    record.container = json.value("container", "");
    record.limits = throttle_limits_from_json(json.at("limits"));
    record.previous = throttle_limits_from_json(json.at("previous"));
  } catch (const nlohmann::json::exception& error) {
    return invalid_argument(std::string("disk.throttle undo record: ") + error.what());
  }
  return record;
}

// The fault id names a cgroup directory: one path component, bounded.
Status check_fault_id_for_cgroup(const std::string& fault_id) {
  if (fault_id.empty() || fault_id.size() > kDiskThrottleMaxFaultIdBytes) {
    return invalid_argument("fault id must be 1.." + std::to_string(kDiskThrottleMaxFaultIdBytes) + " characters");
  }
  for (const char c : fault_id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
    if (!ok) return invalid_argument("fault id '" + fault_id + "' is not usable as a cgroup name");
  }
  return {};
}

std::string throttle_cgroup_name(const std::string& fault_id) { return kDiskThrottleCgroupPrefix + fault_id; }

std::string throttle_last_component(const std::string& path) {
  const auto slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// Moves everything in `child` to `original` and removes `child`; a cgroup
// already gone is success. A process of the child that forks while it is
// being emptied puts its new child there, so this goes round until the
// cgroup is empty (a few rounds: each one moves the parents first).
Status throttle_empty_and_remove(const IoThrottleCgroups& cgroups, const IoCgroup& child, const IoCgroup& original) {
  Status removed;
  for (int round = 0; round < kDiskThrottleEmptyRounds; ++round) {
    if (!cgroups.exists(child)) return {};
    for (const int pid : cgroups.processes(child)) {
      const Status moved = cgroups.move(pid, original);
      // NOT_FOUND: the process exited meanwhile.
      if (!moved.ok() && moved.code() != StatusCode::kNotFound) return moved.with_context("disk.throttle revert");
    }
    removed = cgroups.remove(child);
    if (removed.ok()) return {};
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return removed.with_context("disk.throttle revert");
}

Status throttle_revert_record(const IoThrottleCgroups& cgroups, const DiskThrottleRecord& record) {
  CHAOS_ASSIGN_OR_RETURN(const IoCgroup throttled, cgroups.cgroup_at(record.version, record.cgroup));
  if (!record.child) {
    const Status restored = cgroups.set_limits(throttled, record.device, record.previous);
    // The container stopped and took its cgroup with it.
    if (restored.code() == StatusCode::kNotFound) return {};
    return restored.with_context("disk.throttle revert");
  }
  CHAOS_ASSIGN_OR_RETURN(const IoCgroup original, cgroups.cgroup_at(record.version, record.original));
  return throttle_empty_and_remove(cgroups, throttled, original);
}

// "the throttled cgroup holds exactly the limits": the evidence line's
// first half, or FAILED_PRECONDITION naming the difference.
StatusOr<std::string> throttle_check_limits(const IoThrottleCgroups& cgroups, const IoCgroup& cgroup,
                                            DeviceNumber device, const ThrottleLimits& expected) {
  auto found = cgroups.limits(cgroup, device);
  if (!found.ok()) return failed_precondition("disk.throttle: " + found.status().message());
  if (!(*found == expected)) {
    return failed_precondition("disk.throttle: cgroup " + cgroup.path + " limits " + device.text() + " to " +
                               describe_limits(*found) + ", not " + describe_limits(expected));
  }
  return std::string(cgroup.version == CgroupVersion::kV1 ? "blkio" : "io") + " cgroup " + cgroup.path +
         " limits " + device.text() + " to " + describe_limits(expected);
}

class LiveDiskThrottle final : public LiveFault {
 public:
  LiveDiskThrottle(const IoThrottleCgroups& cgroups, ProcessTable& table, DiskThrottleRecord record, IoBytes baseline,
                   std::shared_ptr<ThrottledCgroups> claims, std::string claim)
      : cgroups_(cgroups),
        table_(table),
        record_(std::move(record)),
        baseline_(baseline),
        claims_(std::move(claims)),
        claim_(std::move(claim)) {}

  ~LiveDiskThrottle() override {
    if (claims_ && !claim_.empty()) claims_->release(claim_);
  }

  std::string backend() const override { return record_.version == CgroupVersion::kV1 ? "blkio" : "io.max"; }

  // "write 1 MiB/s on 7:0 for pid 1234 (nats-server)"
  std::string detail() const override {
    return describe_limits(record_.limits) + " on " + record_.device.text() + " for " + record_.target_text();
  }

  nlohmann::json undo_record() const override { return throttle_record_json(record_); }

  Status revert() override {
    CHAOS_RETURN_IF_ERROR(throttle_revert_record(cgroups_, record_));
    if (claims_ && !claim_.empty()) claims_->release(claim_);
    claim_.clear();
    return {};
  }

  // A moved process that exits ends the fault: nothing is throttled any more.
  Status on_tick(SteadyTime now) override {
    if (!record_.child || now - last_check_ < kDiskThrottleTargetCheckInterval) return {};
    last_check_ = now;
    if (!alive()) return aborted("target_gone: " + record_.target_text() + " exited");
    return {};
  }

  // The limits read back from the throttled cgroup, and the moved process
  // read back in it.
  StatusOr<FaultEffect> verify_live() override {
    CHAOS_ASSIGN_OR_RETURN(const IoCgroup throttled, cgroups_.cgroup_at(record_.version, record_.cgroup));
    CHAOS_ASSIGN_OR_RETURN(std::string evidence,
                           throttle_check_limits(cgroups_, throttled, record_.device, record_.limits));
    if (record_.child) {
      if (!alive()) return failed_precondition("disk.throttle: " + record_.target_text() + " exited");
      auto now_in = cgroups_.cgroup_of(std::to_string(record_.pid));
      if (!now_in.ok() || now_in->path != record_.cgroup) {
        return failed_precondition("disk.throttle: " + record_.target_text() + " is in cgroup " +
                                   (now_in.ok() ? now_in->path : now_in.status().message()) + ", not " +
                                   record_.cgroup);
      }
      evidence += "; " + record_.target_text() + " in it";
    }
    const IoBytes now = cgroups_.bytes(throttled, record_.device);
    const std::uint64_t read = now.read >= baseline_.read ? now.read - baseline_.read : 0;
    const std::uint64_t written = now.written >= baseline_.written ? now.written - baseline_.written : 0;
    FaultEffect effect;
    // Impaired once throttled I/O went through it in a limited direction.
    const bool reads_limited = record_.limits.read_bps != 0 || record_.limits.read_iops != 0;
    const bool writes_limited = record_.limits.write_bps != 0 || record_.limits.write_iops != 0;
    effect.impaired = (reads_limited && read > 0) || (writes_limited && written > 0);
    effect.evidence = evidence + "; " + std::to_string(read) + " bytes read, " + std::to_string(written) +
                      " bytes written through it";
    effect.counters = {{"bytes_read", read}, {"bytes_written", written}};
    return effect;
  }

  // The child cgroup gone and the process back where it was; a container's
  // cgroup holding its previous limits again.
  StatusOr<std::string> verify_gone() override {
    CHAOS_ASSIGN_OR_RETURN(const IoCgroup throttled, cgroups_.cgroup_at(record_.version, record_.cgroup));
    if (!record_.child) {
      if (!cgroups_.exists(throttled)) return "cgroup " + record_.cgroup + " is gone with its container";
      CHAOS_ASSIGN_OR_RETURN(auto evidence,
                             throttle_check_limits(cgroups_, throttled, record_.device, record_.previous));
      return evidence + " again";
    }
    if (cgroups_.exists(throttled)) {
      return failed_precondition("disk.throttle: cgroup " + record_.cgroup + " still exists");
    }
    std::string evidence = "cgroup " + record_.cgroup + " removed";
    if (alive()) {
      auto now_in = cgroups_.cgroup_of(std::to_string(record_.pid));
      if (now_in.ok() && now_in->path != record_.original) {
        return failed_precondition("disk.throttle: " + record_.target_text() + " is in cgroup " + now_in->path +
                                   ", not back in " + record_.original);
      }
      evidence += "; " + record_.target_text() + " back in " + record_.original;
    }
    return evidence;
  }

 private:
  bool alive() const {
    const auto process = table_.get(record_.pid);
    return process && process->start_time == record_.start_time;
  }

  const IoThrottleCgroups& cgroups_;
  ProcessTable& table_;
  const DiskThrottleRecord record_;
  const IoBytes baseline_;
  std::shared_ptr<ThrottledCgroups> claims_;
  std::string claim_;
  SteadyTime last_check_{};
};

std::uint64_t throttle_checked_field(std::uint64_t value, std::uint64_t minimum, std::uint64_t maximum,
                                     const char* field, Status& status) {
  if (status.ok() && value != 0 && (value < minimum || value > maximum)) {
    status = invalid_argument(std::string("disk_throttle.") + field + ": must be 0 (not limited) or in " +
                              std::to_string(minimum) + ".." + std::to_string(maximum));
  }
  return value;
}

}  // namespace

StatusOr<ThrottleLimits> throttle_limits_from_spec(const v1::FaultSpec& spec) {
  if (!spec.has_disk_throttle()) return invalid_argument("disk_throttle: missing");
  const auto& proto = spec.disk_throttle();
  const std::string& path = proto.path();
  if (path.empty()) return invalid_argument("disk_throttle.path: required");
  if (path.size() > kMaxThrottlePathBytes) {
    return invalid_argument("disk_throttle.path: at most " + std::to_string(kMaxThrottlePathBytes) + " bytes");
  }
  if (path[0] != '/') return invalid_argument("disk_throttle.path: must be absolute");
  if (path.find('\0') != std::string::npos) return invalid_argument("disk_throttle.path: holds a NUL byte");
  Status status;
  ThrottleLimits limits;
  limits.read_bps = throttle_checked_field(proto.read_bytes_per_second(), kMinThrottleBytesPerSecond,
                                           kMaxThrottleBytesPerSecond, "read_bytes_per_second", status);
  limits.write_bps = throttle_checked_field(proto.write_bytes_per_second(), kMinThrottleBytesPerSecond,
                                            kMaxThrottleBytesPerSecond, "write_bytes_per_second", status);
  limits.read_iops = throttle_checked_field(proto.read_iops(), 1, kMaxThrottleIops, "read_iops", status);
  limits.write_iops = throttle_checked_field(proto.write_iops(), 1, kMaxThrottleIops, "write_iops", status);
  CHAOS_RETURN_IF_ERROR(status);
  if (!limits.any()) {
    return invalid_argument(
        "disk_throttle: at least one of read_bytes_per_second, write_bytes_per_second, read_iops, write_iops is "
        "required");
  }
  return limits;
}

DiskThrottleKind::DiskThrottleKind(std::shared_ptr<const ProcessTargeting> targeting, DiskThrottleOptions options)
    : targeting_(std::move(targeting)),
      options_(std::move(options)),
      cgroups_(options_.cgroup_root, options_.proc_root),
      throttled_(std::make_shared<ThrottledCgroups>()) {}

std::string DiskThrottleKind::backend() const {
  const auto version = cgroups_.version();
  if (!version.ok()) return "none";
  return *version == CgroupVersion::kV1 ? "blkio" : "io.max";
}

Status DiskThrottleKind::validate(const v1::FaultSpec& spec) const {
  CHAOS_RETURN_IF_ERROR(throttle_limits_from_spec(spec).status());
  if (!spec.disk_throttle().has_target()) return {};
  return validate_process_target(spec.disk_throttle().target(), "disk_throttle.target");
}

StatusOr<BlockDevice> DiskThrottleKind::device_of_path(const v1::FaultSpec& spec, const FaultContext& context) const {
  const std::string& path = spec.disk_throttle().path();
  if (context.container == nullptr) return block_device_of(path, options_.sys_root);
  const std::string root = context.container->root_path.empty()
                               ? options_.proc_root + "/" + std::to_string(context.container->ref.pid()) + "/root"
                               : context.container->root_path;
  return block_device_of(path, options_.sys_root, root);
}

StatusOr<std::unique_ptr<LiveFault>> DiskThrottleKind::apply(const v1::FaultSpec& spec, const FaultContext& context) {
  CHAOS_RETURN_IF_ERROR(validate(spec));
  CHAOS_ASSIGN_OR_RETURN(const ThrottleLimits limits, throttle_limits_from_spec(spec));
  CHAOS_RETURN_IF_ERROR(check_fault_id_for_cgroup(context.fault_id));
  auto device = device_of_path(spec, context);
  if (!device.ok()) return device.status().with_context("disk_throttle.path");
  if (spec.disk_throttle().has_target()) return throttle_process(spec, context, *device, limits);
  if (context.container == nullptr) {
    return invalid_argument("disk_throttle.target: required for a fault on the host (or give FaultSpec.target)");
  }
  return throttle_container(spec, context, *device, limits);
}

StatusOr<std::unique_ptr<LiveFault>> DiskThrottleKind::throttle_process(const v1::FaultSpec& spec,
                                                                        const FaultContext& context,
                                                                        const BlockDevice& device,
                                                                        const ThrottleLimits& limits) {
  ProcessTable& table = *targeting_->table;
  const auto& target = spec.disk_throttle().target();
  CHAOS_ASSIGN_OR_RETURN(const ProcessArea area, process_area_of(context, table));
  CHAOS_ASSIGN_OR_RETURN(auto targets, resolve_process_target(target, "disk_throttle.target", *targeting_,
                                                              target_seed(context.fault_id, 0), area));
  if (targets.size() != 1) {
    return failed_precondition("disk_throttle.target: " + describe_process_target(target) + " matches " +
                               std::to_string(targets.size()) + " processes (" + join_pids(targets) +
                               "); a throttle moves exactly one: narrow it with pid or count = 1");
  }
  const ProcessInfo process = targets.front();
  CHAOS_ASSIGN_OR_RETURN(const IoCgroup original, cgroups_.cgroup_of(std::to_string(process.pid)));
  if (throttle_last_component(original.path).rfind(kDiskThrottleCgroupPrefix, 0) == 0) {
    return failed_precondition("disk_throttle.target: pid " + std::to_string(process.pid) + " is in cgroup " +
                               original.path + " already (another disk.throttle)");
  }
  CHAOS_ASSIGN_OR_RETURN(const IoCgroup child, cgroups_.child(original, throttle_cgroup_name(context.fault_id)));

  RollbackStack undo(context.failed_rollback);
  CHAOS_RETURN_IF_ERROR(cgroups_.create(child).with_context("disk.throttle"));
  undo.push("mkdir", [this, child, original] { return throttle_empty_and_remove(cgroups_, child, original); });
  const Status set = cgroups_.set_limits(child, device.throttled, limits);
  if (!set.ok()) {
    return Status(set.code(), "disk.throttle: " + set.message() +
                                  (child.version == CgroupVersion::kV2
                                       ? " (cgroup v2 lets a process into a child cgroup with io.max only when "
                                         "its own cgroup may enable the io controller for children)"
                                       : ""));
  }
  CHAOS_RETURN_IF_ERROR(cgroups_.move(process.pid, child).with_context("disk.throttle: moving pid " +
                                                                        std::to_string(process.pid)));
  // The pid could have been recycled between the resolution and the move.
  const auto moved = table.get(process.pid);
  if (!moved || moved->start_time != process.start_time) {
    return not_found("disk_throttle.target: pid " + std::to_string(process.pid) + " exited before it was throttled");
  }
  DiskThrottleRecord record;
  record.version = child.version;
  record.device = device.throttled;
  record.child = true;
  record.cgroup = child.path;
  record.original = original.path;
  record.pid = process.pid;
  record.start_time = process.start_time;
  record.comm = process.comm;
  record.limits = limits;
  undo.release();
  return std::unique_ptr<LiveFault>(
      std::make_unique<LiveDiskThrottle>(cgroups_, table, std::move(record), IoBytes{}, nullptr, ""));
}

StatusOr<std::unique_ptr<LiveFault>> DiskThrottleKind::throttle_container(const v1::FaultSpec& spec,
                                                                          const FaultContext& context,
                                                                          const BlockDevice& device,
                                                                          const ThrottleLimits& limits) {
  (void)spec;
  const v1::ContainerRef& ref = context.container->ref;
  const std::string name = describe_container(ref);
  CHAOS_ASSIGN_OR_RETURN(const IoCgroup cgroup, cgroups_.cgroup_of(std::to_string(ref.pid())));
  if (cgroup.path == "/") {
    return permission_denied("disk.throttle: container " + name + " is in the root cgroup: throttling it would "
                             "throttle the whole machine");
  }
  const auto agent = cgroups_.cgroup_of("self");
  if (agent.ok() && (agent->path == cgroup.path || agent->path.rfind(cgroup.path + "/", 0) == 0)) {
    return permission_denied("disk.throttle: container " + name + "'s cgroup " + cgroup.path +
                             " holds the agent itself");
  }
  const std::string claim = cgroup.directory + " " + device.throttled.text();
  if (!throttled_->claim(claim)) {
    return failed_precondition("disk.throttle: container " + name + " is already throttled on " +
                               device.throttled.text() + " by another fault");
  }
  // From here on a failure must give the claim back.
  RollbackStack undo(context.failed_rollback);
  // Released only once the limits are restored: a second throttle would
  // take ours for the container's own and restore them after we are gone.
  undo.push_last_to_undo("claim", [this, claim] {
    throttled_->release(claim);
    return Status{};
  });
  CHAOS_ASSIGN_OR_RETURN(const ThrottleLimits previous, cgroups_.limits(cgroup, device.throttled));
  // Limits the spec leaves at 0 keep what the container had.
  ThrottleLimits merged = limits;
  for (int index = 0; index < 4; ++index) {
    if (blkio_limit_field(merged, index) == 0) blkio_limit_field(merged, index) = blkio_limit_field(previous, index);
  }
  const IoBytes baseline = cgroups_.bytes(cgroup, device.throttled);
  undo.push("limits", [this, cgroup, device, previous] {
    const Status restored = cgroups_.set_limits(cgroup, device.throttled, previous);
    return restored.code() == StatusCode::kNotFound ? Status{} : restored;
  });
  CHAOS_RETURN_IF_ERROR(cgroups_.set_limits(cgroup, device.throttled, merged).with_context("disk.throttle"));
  DiskThrottleRecord record;
  record.version = cgroup.version;
  record.device = device.throttled;
  record.child = false;
  record.cgroup = cgroup.path;
  record.container = name;
  record.limits = merged;
  record.previous = previous;
  undo.release();
  return std::unique_ptr<LiveFault>(std::make_unique<LiveDiskThrottle>(cgroups_, *targeting_->table, std::move(record),
                                                                       baseline, throttled_, claim));
}

Status DiskThrottleKind::remove_named_cgroups(const std::string& fault_id) const {
  CHAOS_RETURN_IF_ERROR(check_fault_id_for_cgroup(fault_id));
  const auto version = cgroups_.version();
  if (!version.ok()) return {};  // no throttle on this machine: nothing can be left
  Status first_error;
  for (const IoCgroup& child : cgroups_.find_named(*version, throttle_cgroup_name(fault_id))) {
    const auto slash = child.path.rfind('/');
    auto parent = cgroups_.cgroup_at(*version, slash == 0 ? "/" : child.path.substr(0, slash));
    const Status removed = parent.ok() ? throttle_empty_and_remove(cgroups_, child, *parent) : parent.status();
    if (!removed.ok() && first_error.ok()) first_error = removed;
  }
  return first_error;
}

Status DiskThrottleKind::recover(const v1::FaultSpec& spec, const FaultContext& context, const nlohmann::json& undo) {
  if (!undo.is_null()) {
    CHAOS_ASSIGN_OR_RETURN(const DiskThrottleRecord record, throttle_record_from_json(undo));
    return throttle_revert_record(cgroups_, record);
  }
  CHAOS_RETURN_IF_ERROR(remove_named_cgroups(context.fault_id));
  if (!spec.has_disk_throttle() || spec.disk_throttle().has_target() || context.container == nullptr) return {};
  // A container's limits set before the crash but never journaled: cleared
  // where the cgroup holds exactly what the spec asked for. What it held
  // before is unknown; no limit is the lesser harm.
  const auto limits = throttle_limits_from_spec(spec);
  const auto device = device_of_path(spec, context);
  const auto cgroup = cgroups_.cgroup_of(std::to_string(context.container->ref.pid()));
  if (!limits.ok() || !device.ok() || !cgroup.ok()) return {};  // the container is gone
  CHAOS_ASSIGN_OR_RETURN(ThrottleLimits now, cgroups_.limits(*cgroup, device->throttled));
  bool ours = true;
  for (int index = 0; index < 4; ++index) {
    const std::uint64_t asked = blkio_limit_field(*limits, index);
    if (asked != 0 && blkio_limit_field(now, index) != asked) ours = false;
  }
  if (!ours) return {};
  for (int index = 0; index < 4; ++index) {
    if (blkio_limit_field(*limits, index) != 0) blkio_limit_field(now, index) = 0;
  }
  return cgroups_.set_limits(*cgroup, device->throttled, now).with_context("disk.throttle recovery");
}

Status DiskThrottleKind::recover_by_id(const FaultContext& context) { return remove_named_cgroups(context.fault_id); }

StatusOr<std::string> DiskThrottleKind::verify_recovered(const FaultContext& context, const nlohmann::json& undo) {
  CHAOS_RETURN_IF_ERROR(check_fault_id_for_cgroup(context.fault_id));
  const std::string name = throttle_cgroup_name(context.fault_id);
  const auto version = cgroups_.version();
  if (!version.ok()) return std::string("no block I/O throttle on this machine");
  const auto left = cgroups_.find_named(*version, name);
  if (!left.empty()) return failed_precondition("disk.throttle: cgroup " + left.front().path + " still exists");
  std::string evidence = "no cgroup " + name + " left";
  if (undo.is_null()) return evidence;
  CHAOS_ASSIGN_OR_RETURN(const DiskThrottleRecord record, throttle_record_from_json(undo));
  if (record.child) return evidence;
  CHAOS_ASSIGN_OR_RETURN(const IoCgroup cgroup, cgroups_.cgroup_at(record.version, record.cgroup));
  if (!cgroups_.exists(cgroup)) return evidence + "; cgroup " + record.cgroup + " is gone with its container";
  CHAOS_ASSIGN_OR_RETURN(auto restored, throttle_check_limits(cgroups_, cgroup, record.device, record.previous));
  return evidence + "; " + restored + " again";
}

}  // namespace chaos::agent::disk
