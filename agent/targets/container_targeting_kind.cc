#include "agent/targets/container_targeting_kind.h"

#include <algorithm>
#include <functional>
#include <utility>

#include "agent/rollback_stack.h"
#include "agent/os_capabilities.h"
#include "agent/targets/namespaces/namespace_handle.h"
#include "common/proc_reader.h"

namespace chaos::agent {

namespace {

constexpr char kContainersKey[] = "containers";

nlohmann::json to_json(const v1::ContainerRef& ref) {
  return {{"runtime", ref.runtime()},
          {"id", ref.id()},
          {"name", ref.name()},
          {"pid", ref.pid()},
          {"pid_start_time", ref.pid_start_time()},
          {"network_namespace", ref.network_namespace()},
          {"pod_namespace", ref.pod_namespace()},
          {"pod_name", ref.pod_name()}};
}

StatusOr<v1::ContainerRef> ref_from_json(const nlohmann::json& json) {
  if (!json.is_object()) return invalid_argument("undo record: a container is not an object");
  v1::ContainerRef ref;
  try {
    ref.set_runtime(json.value("runtime", ""));
    ref.set_id(json.value("id", ""));
    ref.set_name(json.value("name", ""));
    ref.set_pid(json.value("pid", 0));
    ref.set_pid_start_time(json.value("pid_start_time", std::uint64_t{0}));
    ref.set_network_namespace(json.value("network_namespace", ""));
    ref.set_pod_namespace(json.value("pod_namespace", ""));
    ref.set_pod_name(json.value("pod_name", ""));
  } catch (const nlohmann::json::exception& error) {
    return invalid_argument(std::string("undo record: a container field has the wrong type: ") + error.what());
  }
  if (ref.pid() <= 0) return invalid_argument("undo record: container " + ref.name() + " has no pid");
  return ref;
}

// The container's init process is the one it was at inject: the same pid
// with the same start time, not exited. False once the container stopped or
// restarted (a restart starts a new init, with a new namespace).
bool init_still_running(const v1::ContainerRef& ref) {
  const auto stat = ProcReader().stat(ref.pid());
  return stat && !stat->dead() && (ref.pid_start_time() == 0 || stat->start_time == ref.pid_start_time());
}

bool same_namespace_still_there(const v1::ContainerRef& ref) {
  if (!init_still_running(ref)) return false;
  const auto identity = namespace_of(ref.pid(), "net");
  return identity.ok() && (ref.network_namespace().empty() ||
                           identity->to_string("net") == ref.network_namespace());
}

std::string gone_message(const v1::ContainerRef& ref) {
  return "target_gone: container " + describe_container(ref) + " stopped or restarted (its init pid " +
         std::to_string(ref.pid()) + " is gone)";
}

// One container a fault acts in, with what keeps its namespace pinned.
struct Member {
  v1::ContainerRef ref;
  NamespaceHandle network;
  std::unique_ptr<NamespacedCommandRunner> commands;
  ContainerScope scope;
  std::unique_ptr<LiveFault> live;
};

// Opens the container's network namespace and checks, after opening it,
// that the pid still names the container's init: a pid recycled since the
// lookup is refused, never entered.
StatusOr<std::unique_ptr<Member>> enter(const v1::ContainerRef& ref, CommandRunner& host_commands) {
  auto member = std::make_unique<Member>();
  member->ref = ref;
  auto network = NamespaceHandle::open(ref.pid(), "net");
  if (!network.ok()) return not_found(gone_message(ref));
  member->network = std::move(*network);
  const std::string identity = member->network.identity().to_string("net");
  if (!init_still_running(ref) || (!ref.network_namespace().empty() && identity != ref.network_namespace())) {
    return not_found(gone_message(ref));
  }
  member->ref.set_network_namespace(identity);
  member->commands = std::make_unique<NamespacedCommandRunner>(host_commands, member->network.path());
  member->scope.ref = member->ref;
  member->scope.commands = member->commands.get();
  member->scope.network_namespace_fd = member->network.fd();
  member->scope.root_path = "/proc/" + std::to_string(ref.pid()) + "/root";
  return member;
}

FaultContext in_container(const FaultContext& context, const Member& member) {
  FaultContext inside = context;
  inside.container = &member.scope;
  return inside;
}

// Where a gone hostNetwork container's objects are (left_objects_on_the_host).
FaultContext on_the_host(const FaultContext& context) {
  FaultContext host = context;
  host.container = nullptr;
  return host;
}

std::string where(const v1::ContainerRef& ref) { return "in " + describe_container(ref); }
std::string in(const v1::ContainerRef& ref) { return where(ref) + ": "; }

// All members' effects as one: impaired only when every container's is (a
// container whose scope saw no traffic yet keeps the fault "armed").
FaultEffect combine(const std::vector<std::pair<const Member*, FaultEffect>>& effects) {
  FaultEffect combined;
  combined.impaired = !effects.empty();
  for (const auto& [member, effect] : effects) {
    combined.impaired = combined.impaired && effect.impaired;
    combined.evidence += (combined.evidence.empty() ? "" : "; ") + in(member->ref) + effect.evidence;
    for (const auto& counter : effect.counters) {
      auto found = std::find_if(combined.counters.begin(), combined.counters.end(),
                                [&](const FaultCounter& c) { return c.name == counter.name; });
      if (found == combined.counters.end()) {
        combined.counters.push_back(counter);
      } else {
        found->value += counter.value;
      }
    }
  }
  return combined;
}

class ContainerFanoutFault final : public LiveFault {
 public:
  explicit ContainerFanoutFault(std::vector<std::shared_ptr<Member>> members) : members_(std::move(members)) {}

  std::string backend() const override { return members_.front()->live->backend(); }
  std::string detail() const override {
    std::string out;
    for (const auto& member : members_) {
      out += (out.empty() ? "" : "; ") + in(member->ref) + member->live->detail();
    }
    return out;
  }
  nlohmann::json undo_record() const override {
    nlohmann::json containers = nlohmann::json::array();
    for (const auto& member : members_) {
      containers.push_back({{"container", to_json(member->ref)}, {"undo", member->live->undo_record()}});
    }
    return {{kContainersKey, containers}};
  }
  // Reverts inside every container. The held namespace outlives a stopped
  // container, so a revert after the container is gone still finds its
  // objects (and removing them is harmless).
  Status revert() override {
    std::string failures;
    for (const auto& member : members_) {
      if (Status reverted = member->live->revert(); !reverted.ok()) {
        failures += (failures.empty() ? "" : "; ") + in(member->ref) + reverted.message();
      }
    }
    return failures.empty() ? Status{} : internal_error(failures);
  }
  Status on_tick(SteadyTime now) override {
    for (const auto& member : members_) {
      if (!init_still_running(member->ref)) return aborted(gone_message(member->ref));
    }
    for (const auto& member : members_) {
      Status ticked = member->live->on_tick(now);
      if (!ticked.ok()) return Status(ticked.code(), ticked.message() + " (" + in(member->ref) + "...)");
    }
    return {};
  }
  StatusOr<FaultEffect> verify_live() override {
    return gather([](LiveFault& live) { return live.verify_live(); });
  }
  StatusOr<FaultEffect> observe() override {
    return gather([](LiveFault& live) { return live.observe(); });
  }
  StatusOr<std::string> verify_gone() override {
    std::string evidence;
    for (const auto& member : members_) {
      auto gone = member->live->verify_gone();
      if (!gone.ok()) return gone.status().with_context(where(member->ref));
      evidence += (evidence.empty() ? "" : "; ") + in(member->ref) + *gone;
    }
    return evidence;
  }
  std::vector<v1::ContainerRef> containers() const override {
    std::vector<v1::ContainerRef> refs;
    for (const auto& member : members_) refs.push_back(member->ref);
    return refs;
  }

 private:
  template <typename Check>
  StatusOr<FaultEffect> gather(Check check) {
    std::vector<std::pair<const Member*, FaultEffect>> effects;
    for (const auto& member : members_) {
      auto effect = check(*member->live);
      if (!effect.ok()) return effect.status().with_context(where(member->ref));
      effects.emplace_back(member.get(), std::move(*effect));
    }
    return combine(effects);
  }

  std::vector<std::shared_ptr<Member>> members_;
};

}  // namespace

bool is_container_undo_record(const nlohmann::json& undo_record) {
  return undo_record.is_object() && undo_record.contains(kContainersKey) && undo_record[kContainersKey].is_array();
}

ContainerTargetingKind::ContainerTargetingKind(std::unique_ptr<FaultKind> inner, ContainerFinder* finder,
                                               CommandRunner& host_commands,
                                               std::function<std::uint64_t()> capability_mask)
    : inner_(std::move(inner)),
      finder_(finder),
      host_commands_(host_commands),
      capability_mask_(capability_mask ? std::move(capability_mask) : effective_capability_mask),
      agent_network_namespace_(own_network_namespace()) {}

bool ContainerTargetingKind::left_objects_on_the_host(const v1::ContainerRef& ref) const {
  return inner().leaves_objects_in_network_namespace() && !agent_network_namespace_.empty() &&
         ref.network_namespace() == agent_network_namespace_;
}

Status ContainerTargetingKind::validate(const v1::FaultSpec& spec) const {
  if (spec.has_target()) {
    if (!inner().acts_in_containers()) {
      return invalid_argument("target: " + inner().name() + " cannot act in a container (only on the agent's host)");
    }
    CHAOS_RETURN_IF_ERROR(validate_container_selector(spec.target(), "target"));
  } else if (inner().needs_container_target()) {
    return invalid_argument("target: " + inner().name() + " acts on containers only; name one (runtime, name, "
                            "id_prefix, labels or pod)");
  }
  return inner().validate(spec);
}

Status ContainerTargetingKind::check_targets(const v1::FaultSpec& spec) {
  if (!spec.has_target()) return inner().check_targets(spec);
  CHAOS_RETURN_IF_ERROR(reachable_runtime());
  return finder_->find(spec.target(), "target", 0).status();
}

Status ContainerTargetingKind::reachable_runtime() const {
  if (finder_ == nullptr) {
    return failed_precondition("target: this agent reaches no container runtime (set [containers] "
                               "containerd_socket, docker_socket or podman_socket in its config)");
  }
  // Entering a container's namespaces (setns, nsenter) needs CAP_SYS_ADMIN;
  // without it every apply would fail half-way with EPERM.
  const auto missing = missing_capabilities_for({"CAP_SYS_ADMIN"}, capability_mask_());
  if (!missing.empty()) {
    return failed_precondition("target: acting in a container needs CAP_SYS_ADMIN (to enter its namespaces), "
                               "which this agent lacks");
  }
  return {};
}

StatusOr<std::unique_ptr<LiveFault>> ContainerTargetingKind::apply(const v1::FaultSpec& spec,
                                                                   const FaultContext& context) {
  if (!spec.has_target()) return inner().apply(spec, context);
  CHAOS_RETURN_IF_ERROR(reachable_runtime());
  const std::uint64_t seed = std::hash<std::string>{}(context.fault_id);
  CHAOS_ASSIGN_OR_RETURN(auto refs, finder_->find(spec.target(), "target", seed));
  std::vector<std::shared_ptr<Member>> members;
  // All or nothing: a container that fails undoes the ones before it. A
  // member whose revert fails then goes to the registry with its step.
  RollbackStack undo(context.failed_rollback);
  for (const auto& ref : refs) {
    auto entered = enter(ref, host_commands_);
    if (!entered.ok()) return entered.status();
    std::shared_ptr<Member> member = std::move(*entered);
    // What the inner apply could not undo acts through this member's runner
    // and namespace: its steps go to the registry with the member that
    // keeps both open, never on their own, and run only when asked (a step
    // the registry lets go of at shutdown stays for the next start).
    std::shared_ptr<RollbackStack> left_in_member(new RollbackStack, [](RollbackStack* steps) {
      steps->release();
      delete steps;
    });
    FaultContext inside = in_container(context, *member);
    inside.failed_rollback = left_in_member.get();
    const auto keep_what_it_left = [&] {
      if (left_in_member->empty()) return;
      undo.push("what the failed apply left " + where(ref),
                [member, left_in_member] { return left_in_member->unwind(); });
    };
    StatusOr<std::unique_ptr<LiveFault>> live = internal_error("apply did not run");
    try {
      live = inner().apply(spec, inside);
    } catch (...) {
      keep_what_it_left();
      throw;
    }
    if (!live.ok()) {
      keep_what_it_left();
      return live.status().with_context(where(ref));
    }
    member->live = std::move(*live);
    undo.push("the fault " + where(ref), [member] { return member->live->revert(); });
    members.push_back(std::move(member));
  }
  undo.release();  // the ContainerFanoutFault reverts every member
  return std::unique_ptr<LiveFault>(std::make_unique<ContainerFanoutFault>(std::move(members)));
}

// Every running container the selector matches, not a sample: after a crash
// mid-apply nobody knows which of them the fault reached.
StatusOr<std::vector<v1::ContainerRef>> ContainerTargetingKind::every_match_now(
    const v1::ContainerSelector& selector) const {
  v1::ContainerSelector all = selector;
  all.clear_count();
  all.clear_percent();
  return finder_->find(all, "target", 0);
}

Status ContainerTargetingKind::recover(const v1::FaultSpec& spec, const FaultContext& context,
                                       const nlohmann::json& undo_record) {
  if (!spec.has_target()) return inner().recover(spec, context, undo_record);
  std::string failures;
  auto recover_in = [&](const v1::ContainerRef& ref, const nlohmann::json& undo) {
    auto member = enter(ref, host_commands_);
    if (!member.ok() && left_objects_on_the_host(ref)) {
      if (Status recovered = inner().recover(spec, on_the_host(context), undo); !recovered.ok()) {
        failures +=
            (failures.empty() ? "" : "; ") + in(ref) + "(gone; its namespace is the agent's) " + recovered.message();
      }
      return;
    }
    if (!member.ok()) return;  // the container and its namespace are gone: nothing of the fault is left
    if (Status recovered = inner().recover(spec, in_container(context, **member), undo); !recovered.ok()) {
      failures += (failures.empty() ? "" : "; ") + in(ref) + recovered.message();
    }
  };
  if (!is_container_undo_record(undo_record)) {
    // The crash came mid-apply, before the containers were journaled: undo
    // in every container the selector matches now (kinds name their objects
    // after the fault id, so recovering where nothing was applied is a no-op).
    if (finder_ == nullptr) return {};
    auto refs = every_match_now(spec.target());
    if (!refs.ok()) return refs.status().code() == StatusCode::kNotFound ? Status{} : refs.status();
    for (const auto& ref : *refs) recover_in(ref, nullptr);
  } else {
    for (const auto& record : undo_record[kContainersKey]) {
      if (!record.is_object()) return invalid_argument("undo record: a container entry is not an object");
      CHAOS_ASSIGN_OR_RETURN(auto ref, ref_from_json(record.value("container", nlohmann::json())));
      recover_in(ref, record.value("undo", nlohmann::json()));
    }
  }
  return failures.empty() ? Status{} : internal_error(failures);
}

StatusOr<std::string> ContainerTargetingKind::verify_recovered(const FaultContext& context,
                                                               const nlohmann::json& undo_record) {
  const bool targeted = context.spec != nullptr && context.spec->has_target();
  if (!is_container_undo_record(undo_record) && !targeted) return inner().verify_recovered(context, undo_record);
  std::string evidence;
  if (!is_container_undo_record(undo_record)) {
    // The crash came mid-apply: look where recover() looked, in every
    // container the selector matches now.
    if (finder_ == nullptr) return std::string("no container runtime: nothing to check");
    auto refs = every_match_now(context.spec->target());
    if (!refs.ok()) {
      if (refs.status().code() == StatusCode::kNotFound) return std::string("no container matches now: none to check");
      return refs.status();
    }
    for (const auto& ref : *refs) {
      auto member = enter(ref, host_commands_);
      if (!member.ok()) continue;  // gone since: nothing of the fault is left in it
      auto checked = inner().verify_recovered(in_container(context, **member), nullptr);
      if (!checked.ok()) return checked.status().with_context(where(ref));
      evidence += (evidence.empty() ? "" : "; ") + in(ref) + *checked;
    }
    return evidence.empty() ? std::string("every matching container is gone") : evidence;
  }
  for (const auto& record : undo_record[kContainersKey]) {
    if (!record.is_object()) return invalid_argument("undo record: a container entry is not an object");
    CHAOS_ASSIGN_OR_RETURN(auto ref, ref_from_json(record.value("container", nlohmann::json())));
    std::string line;
    if (!same_namespace_still_there(ref) && left_objects_on_the_host(ref)) {
      auto checked = inner().verify_recovered(on_the_host(context), record.value("undo", nlohmann::json()));
      if (!checked.ok()) return checked.status().with_context(where(ref) + " (gone; its namespace is the agent's)");
      line = "container gone, its namespace the agent's: " + *checked;
    } else if (!same_namespace_still_there(ref)) {
      line = "container gone, with its network namespace";
    } else {
      auto member = enter(ref, host_commands_);
      if (!member.ok()) {
        line = "container gone, with its network namespace";
      } else {
        auto checked = inner().verify_recovered(in_container(context, **member), record.value("undo", nlohmann::json()));
        if (!checked.ok()) return checked.status().with_context(where(ref));
        line = *checked;
      }
    }
    evidence += (evidence.empty() ? "" : "; ") + in(ref) + line;
  }
  return evidence;
}

}  // namespace chaos::agent
