#include "agent/faults/container/container_pause_kind.h"

#include <unistd.h>

#include <chrono>
#include <thread>

#include "agent/targets/container_finder.h"
#include "common/duration.h"
#include "common/proc_reader.h"

namespace chaos::agent {

std::string host_cgroup_root() {
  auto has_cgroups = [](const std::string& root) {
    return ::access((root + "/freezer/cgroup.procs").c_str(), F_OK) == 0 ||
           ::access((root + "/cgroup.controllers").c_str(), F_OK) == 0 ||
           ::access((root + "/unified/cgroup.controllers").c_str(), F_OK) == 0;
  };
  if (has_cgroups("/sys/fs/cgroup")) return "/sys/fs/cgroup";
  if (has_cgroups("/proc/1/root/sys/fs/cgroup")) return "/proc/1/root/sys/fs/cgroup";
  return "/sys/fs/cgroup";  // the error then names the usual place
}

namespace {

// The kernel freezes a cgroup's tasks within milliseconds; poll finely so
// the measured time to effect is close to the real one.
constexpr auto kPollInterval = std::chrono::milliseconds(5);

// A task the v1 freezer holds reads 'D' in /proc (it waits in the
// refrigerator, uninterruptible); one that exited meanwhile is not running
// either.
bool not_running(char state) { return state == 'D' || state == 'Z' || state == 'X' || state == '?'; }

struct FreezeReading {
  FreezerState state = FreezerState::kThawed;
  std::size_t processes = 0;
  std::size_t tasks = 0;
  std::size_t tasks_running = 0;  // v1 only: threads not in state D
};

FreezeReading read_freeze(const CgroupFreezer& freezer, const FreezerCgroup& cgroup, Status& error) {
  FreezeReading reading;
  auto state = freezer.state(cgroup);
  if (!state.ok()) {
    error = state.status();
    return reading;
  }
  reading.state = *state;
  if (reading.state == FreezerState::kGone) return reading;
  reading.processes = freezer.processes(cgroup).size();
  if (cgroup.version == CgroupVersion::kV1) {
    for (int tid : freezer.threads(cgroup)) {
      ++reading.tasks;
      if (!not_running(freezer.task_state(tid))) ++reading.tasks_running;
    }
  }
  return reading;
}

bool fully_frozen(const FreezerCgroup& cgroup, const FreezeReading& reading) {
  return reading.state == FreezerState::kFrozen && (cgroup.version == CgroupVersion::kV2 || reading.tasks_running == 0);
}

std::string describe_reading(const FreezerCgroup& cgroup, const FreezeReading& reading) {
  if (reading.state == FreezerState::kGone) return "cgroup " + cgroup.path + " is gone (the container stopped)";
  if (cgroup.version == CgroupVersion::kV1) {
    return cgroup.control_file() + " reads " + freezer_state_name(reading.state) + ", " +
           std::to_string(reading.tasks - reading.tasks_running) + " of " + std::to_string(reading.tasks) +
           " tasks in state D";
  }
  return cgroup.directory + "/cgroup.events reads frozen " + (reading.state == FreezerState::kFrozen ? "1" : "0") +
         ", " + std::to_string(reading.processes) + " processes";
}

// Polls until `reached` or the timeout (real time: the kernel acts on real
// tasks); returns the last reading.
template <typename Reached>
StatusOr<FreezeReading> wait_for(const CgroupFreezer& freezer, const FreezerCgroup& cgroup, Duration timeout,
                                 Reached reached) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    Status error;
    const FreezeReading reading = read_freeze(freezer, cgroup, error);
    if (!error.ok()) return error;
    if (reached(reading) || std::chrono::steady_clock::now() >= deadline) return reading;
    std::this_thread::sleep_for(kPollInterval);
  }
}

// The cgroup holds `inner` itself or one of its ancestors.
bool at_or_above(const std::string& path, const std::string& inner) {
  if (path == "/" || path == inner) return true;
  return inner.size() > path.size() && inner.compare(0, path.size(), path) == 0 && inner[path.size()] == '/';
}

class LiveContainerPause final : public LiveFault {
 public:
  LiveContainerPause(const CgroupFreezer& freezer, Duration effect_timeout, FreezerCgroup cgroup,
                     v1::ContainerRef container)
      : freezer_(freezer), effect_timeout_(effect_timeout), cgroup_(std::move(cgroup)),
        container_(std::move(container)) {}

  std::string backend() const override { return "freezer"; }
  std::string detail() const override {
    return std::string(cgroup_.version == CgroupVersion::kV1 ? "FROZEN" : "1") + " written to " +
           cgroup_.control_file();
  }

  nlohmann::json undo_record() const override {
    return {{"cgroup_version", cgroup_version_name(cgroup_.version)},
            {"cgroup", cgroup_.path},
            {"file", cgroup_.control_file()},
            {"container", {{"runtime", container_.runtime()},
                           {"id", container_.id()},
                           {"name", container_.name()},
                           {"pid", container_.pid()},
                           {"pid_start_time", container_.pid_start_time()}}}};
  }

  Status revert() override { return freezer_.thaw(cgroup_).with_context("container.pause"); }

  StatusOr<FaultEffect> verify_live() override {
    CHAOS_ASSIGN_OR_RETURN(const FreezeReading reading,
                           wait_for(freezer_, cgroup_, effect_timeout_,
                                    [this](const FreezeReading& r) { return fully_frozen(cgroup_, r); }));
    if (!fully_frozen(cgroup_, reading)) {
      return failed_precondition("container.pause: " + describe_reading(cgroup_, reading) + ", " +
                                 format_duration(effect_timeout_) + " after freezing");
    }
    return effect_of(reading);
  }

  // One control file and the task list: cheap enough every second.
  StatusOr<FaultEffect> observe() override {
    Status error;
    const FreezeReading reading = read_freeze(freezer_, cgroup_, error);
    if (!error.ok()) return error;
    return effect_of(reading);
  }

  StatusOr<std::string> verify_gone() override {
    auto thawed = [](const FreezeReading& r) {
      return r.state == FreezerState::kThawed || r.state == FreezerState::kGone;
    };
    CHAOS_ASSIGN_OR_RETURN(const FreezeReading reading, wait_for(freezer_, cgroup_, effect_timeout_, thawed));
    if (!thawed(reading)) {
      return failed_precondition("container.pause: " + describe_reading(cgroup_, reading) + " " +
                                 format_duration(effect_timeout_) + " after thawing");
    }
    return describe_reading(cgroup_, reading);
  }

 private:
  FaultEffect effect_of(const FreezeReading& reading) const {
    FaultEffect effect;
    effect.impaired = fully_frozen(cgroup_, reading);
    effect.evidence = describe_reading(cgroup_, reading);
    effect.counters = {{"processes_frozen", effect.impaired ? reading.processes : 0}};
    return effect;
  }

  const CgroupFreezer& freezer_;
  const Duration effect_timeout_;
  const FreezerCgroup cgroup_;
  const v1::ContainerRef container_;
};

// The container's init is still the process resolved at inject.
bool init_unchanged(const v1::ContainerRef& ref, const std::string& proc_root) {
  const auto stat = ProcReader(proc_root).stat(ref.pid());
  return stat && !stat->dead() && (ref.pid_start_time() == 0 || stat->start_time == ref.pid_start_time());
}

}  // namespace

ContainerPauseKind::ContainerPauseKind(ContainerPauseOptions options)
    : options_(std::move(options)), freezer_(options_.cgroup_root, options_.proc_root) {}

Status ContainerPauseKind::validate(const v1::FaultSpec& spec) const {
  if (spec.kind_case() != v1::FaultSpec::kContainerPause) return invalid_argument("spec: not a container_pause spec");
  return {};
}

StatusOr<std::unique_ptr<LiveFault>> ContainerPauseKind::apply(const v1::FaultSpec& spec,
                                                               const FaultContext& context) {
  CHAOS_RETURN_IF_ERROR(validate(spec));
  if (context.container == nullptr) {
    return failed_precondition("container.pause: acts on containers only (FaultSpec.target)");
  }
  const v1::ContainerRef& ref = context.container->ref;
  const std::string where = "container.pause: container " + describe_container(ref);
  if (!init_unchanged(ref, options_.proc_root)) {
    return not_found(where + ": its init pid " + std::to_string(ref.pid()) + " is gone");
  }
  auto found = freezer_.cgroup_of(ref.pid());
  if (!found.ok()) return found.status().with_context(where);
  const FreezerCgroup cgroup = std::move(*found);

  // Never freeze the agent: nothing could thaw it again.
  auto own = freezer_.cgroup_path("self", cgroup.version);
  if (!own.ok()) return own.status().with_context(where + ": the agent's own cgroup");
  if (at_or_above(cgroup.path, *own)) {
    return permission_denied(where + ": refusing to freeze cgroup " + cgroup.path + ", which holds the agent itself");
  }
  // The host's init (or the agent's pid namespace's): a container resolved
  // to the wrong pid must never freeze the machine.
  if (auto init = freezer_.cgroup_path("1", cgroup.version); init.ok() && at_or_above(cgroup.path, *init)) {
    return permission_denied(where + ": refusing to freeze cgroup " + cgroup.path + ", which holds pid 1 (init)");
  }

  CHAOS_ASSIGN_OR_RETURN(const FreezerState before, freezer_.state(cgroup));
  if (before == FreezerState::kGone) return not_found(where + ": cgroup " + cgroup.path + " is gone");
  if (before != FreezerState::kThawed) {
    return failed_precondition(where + ": cgroup " + cgroup.path + " is already " + freezer_state_name(before) +
                               " (paused by its runtime or another fault); thawing it on revert would undo that");
  }
  if (Status frozen = freezer_.freeze(cgroup); !frozen.ok()) {
    (void)freezer_.thaw(cgroup);  // all or nothing: a half-written freeze is undone
    return frozen.with_context(where);
  }
  return std::unique_ptr<LiveFault>(
      std::make_unique<LiveContainerPause>(freezer_, options_.effect_timeout, cgroup, ref));
}

StatusOr<FreezerCgroup> ContainerPauseKind::recorded_cgroup(const FaultContext& context,
                                                             const nlohmann::json& undo) const {
  if (undo.is_object() && undo.contains("cgroup")) {
    std::string version;
    std::string path;
    try {
      version = undo.at("cgroup_version").get<std::string>();
      path = undo.at("cgroup").get<std::string>();
    } catch (const nlohmann::json::exception& error) {
      return invalid_argument(std::string("container.pause undo record: ") + error.what());
    }
    if (version != "v1" && version != "v2") {
      return invalid_argument("container.pause undo record: cgroup_version '" + version + "' is neither v1 nor v2");
    }
    return freezer_.cgroup_at(version == "v1" ? CgroupVersion::kV1 : CgroupVersion::kV2, path);
  }
  if (context.container == nullptr) return failed_precondition("container.pause: no container to recover in");
  return freezer_.cgroup_of(context.container->ref.pid());
}

Status ContainerPauseKind::recover(const v1::FaultSpec&, const FaultContext& context, const nlohmann::json& undo) {
  // Without a record the crash came between the freeze and the journal:
  // thaw the container's cgroup. Thawing one its runtime had paused is the
  // lesser harm.
  auto cgroup = recorded_cgroup(context, undo);
  if (!cgroup.ok()) return cgroup.status().code() == StatusCode::kNotFound ? Status{} : cgroup.status();
  return freezer_.thaw(*cgroup).with_context("container.pause recovery");
}

StatusOr<std::string> ContainerPauseKind::verify_recovered(const FaultContext& context, const nlohmann::json& undo) {
  auto cgroup = recorded_cgroup(context, undo);
  if (!cgroup.ok()) {
    if (cgroup.status().code() == StatusCode::kNotFound) return std::string("the container's init is gone");
    return cgroup.status();
  }
  CHAOS_ASSIGN_OR_RETURN(const FreezerState state, freezer_.state(*cgroup));
  if (state == FreezerState::kGone) return "cgroup " + cgroup->path + " is gone (the container stopped)";
  if (state != FreezerState::kThawed) {
    return failed_precondition("container.pause: " + cgroup->control_file() + " reads " + freezer_state_name(state));
  }
  return cgroup->control_file() + " reads THAWED";
}

}  // namespace chaos::agent
