// The one interface every fault kind implements. A kind lives in its own
// folder under agent/faults/ (spec validation, apply, revert) and is
// registered explicitly in the agent's main, so the list of kinds is readable
// in one place.
//
// Lifecycle, driven by the FaultRegistry:
//   validate(spec)             -> INVALID_ARGUMENT naming the field, or OK
//   journal {id, kind, spec}   (durable, before anything touches the system)
//   apply(spec, context)       -> LiveFault, all-or-nothing
//   journal the LiveFault's undo_record()
//   verify_live()              -> the effect read back from the system
//   ... on_tick() while live; observe() about every second ...
//   revert()                   -> idempotent; "already gone" is success
//   verify_gone()              -> read back that nothing of it is left
// After a crash, a new agent process calls recover(spec, context, undo) for
// every journal entry; `undo` is null when the crash came mid-apply.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "chaos/v1/agent.pb.h"
#include "common/clock.h"
#include "common/command_runner.h"
#include "common/status.h"

namespace chaos::agent {

// Facts about the agent itself that faults must respect: its own control
// traffic is never delayed, dropped or partitioned, and it never signals
// itself or its parent.
struct AgentEnvironment {
  std::vector<int> protected_ports;  // gRPC control + metrics ports
  std::string state_dir;             // per-fault scratch files live below it
  CommandRunner* commands = nullptr;  // tc / nft / iptables / ip
  Clock* clock = nullptr;
};

// One container a fault acts in (FaultSpec.target), as the agent resolved
// it. Kinds that act in containers (FaultKind::acts_in_containers) run their
// tools through `commands`, which enters the container's network namespace,
// and create sockets and engine threads inside it with
// agent/targets/namespaces/namespace_handle.h's enter_network_namespace().
struct ContainerScope {
  v1::ContainerRef ref;
  CommandRunner* commands = nullptr;
  // An open /proc/PID/ns/net of the container, held for the fault's life, so
  // a recycled pid never redirects the fault to another namespace.
  int network_namespace_fd = -1;
  // Where the container's root filesystem is seen from the agent
  // ("/proc/PID/root"): its /etc/resolv.conf, its cgroup files.
  std::string root_path;
};

class RollbackStack;

struct FaultContext {
  // Unique and stable across restarts; kinds name the kernel objects they
  // own after it (e.g. nft table "chaos_<id>") so recovery can find them.
  std::string fault_id;
  std::string experiment_id;
  Duration duration{0};
  // Null: the fault acts on the agent's host.
  const ContainerScope* container = nullptr;
  // The fault's spec, where the caller has it (recovery's gone check, which
  // gets no spec of its own, needs the target of a fault whose crash left
  // no undo record).
  const v1::FaultSpec* spec = nullptr;
  // Set for apply(): where the apply's own RollbackStack leaves the undo
  // steps that failed when a failed apply unwound (a rule it could not
  // remove), so the registry retries them and keeps the journal entry.
  RollbackStack* failed_rollback = nullptr;
};

// One live counter of a fault ("packets_delayed", "queries_nxdomain",
// "signals_sent"); names are snake_case and stable: they become metric
// labels and report columns.
struct FaultCounter {
  std::string name;
  std::uint64_t value = 0;
};

// What a fault's check read back from the system itself (kernel listings,
// /proc, a probe query), never from the fault's own records.
struct FaultEffect {
  // True once in-scope work was impaired: a packet delayed or dropped, a
  // query answered wrongly, a signal delivered, a process seen stopped.
  // False: everything is in place but nothing in scope has been touched yet
  // ("armed, no traffic yet"), which is never reported as verified.
  bool impaired = false;
  // One line for people: "iptables mangle CHAOS-1a2b-O: 3 rules, jump from
  // POSTROUTING, 14 packets queued; engine on queue 4 held 14".
  std::string evidence;
  std::vector<FaultCounter> counters;
};

// How much proof of effect an inject demands (v1::VerifyMode): required
// fails and undoes an inject whose check fails, best-effort reports it and
// keeps the fault, off skips the check after apply (never the one after
// revert).
enum class VerifyMode { kRequired, kBestEffort, kOff };

class LiveFault {
 public:
  virtual ~LiveFault() = default;
  // "nfqueue", "netem", "nftables", "tbf", "signal", "freezer", "dns-stub", ...
  virtual std::string backend() const = 0;
  // One line for people: "SIGSTOP pids 412,415", "50ms +-5ms on eth0".
  virtual std::string detail() const = 0;
  // What a later agent process needs to undo this after a crash.
  virtual nlohmann::json undo_record() const = 0;
  // Idempotent: undoing what is already gone succeeds.
  virtual Status revert() = 0;
  // Called by the registry at least every 100 ms while the fault is live,
  // for faults that act repeatedly (e.g. kill every 10 s), and to let a
  // fault report that it can no longer work. An error is logged once; an
  // ABORTED error ends the fault: the registry reverts it at once with the
  // revert reason taken from the message's first word ("target_gone: ...",
  // "engine_failed: ...").
  virtual Status on_tick(SteadyTime now) {
    (void)now;
    return {};
  }
  // Right after apply: reads the effect back from the system. An error is
  // FAILED_PRECONDITION saying what is missing ("nft table inet chaos_1a2b
  // is not in the ruleset"); the registry then reverts the fault.
  virtual StatusOr<FaultEffect> verify_live() = 0;
  // About every second while live, off the tick thread: the counters, and
  // whether the effect has been seen yet. May be cheaper than verify_live()
  // (in-process counters of what the kernel objects feed).
  virtual StatusOr<FaultEffect> observe() { return verify_live(); }
  // After a successful revert(): reads back that the effect is gone, from
  // the same sources as verify_live(). OK carries the evidence ("chains
  // CHAOS-1a2b-O/I absent from iptables-save"); FAILED_PRECONDITION names
  // what is still there, and the revert is then retried.
  virtual StatusOr<std::string> verify_gone() = 0;
  // The containers the fault acts in (empty: the host), for Fault.containers.
  virtual std::vector<v1::ContainerRef> containers() const { return {}; }
};

struct Policy;

class FaultKind {
 public:
  virtual ~FaultKind() = default;
  // Canonical name, e.g. "network.delay" (see proto/fault_kinds.h).
  virtual std::string name() const = 0;
  // Spec checks that need no system access. Errors are INVALID_ARGUMENT with
  // the proto field path: "network_delay.delay: must be positive".
  virtual Status validate(const v1::FaultSpec& spec) const = 0;
  // The agent policy's limits on what this kind's spec asks for (max_delay
  // for the delays it adds, ...): PERMISSION_DENIED "policy: <why>", from
  // the helpers in agent/policy.h. Asked after validate(), before apply.
  virtual Status check_policy_limits(const Policy& policy, const v1::FaultSpec& spec) const {
    (void)policy;
    (void)spec;
    return {};
  }
  // What a dry run checks on the system beyond validate(): that the
  // targets exist now (NOT_FOUND naming the selector), so a run fails its
  // preflight before any fault is applied. Applies nothing.
  virtual Status check_targets(const v1::FaultSpec& spec) {
    (void)spec;
    return {};
  }
  // Applies completely or not at all: a failure part-way undoes every step.
  virtual StatusOr<std::unique_ptr<LiveFault>> apply(const v1::FaultSpec& spec,
                                                     const FaultContext& context) = 0;
  // Undoes what a previous agent process left behind; idempotent.
  virtual Status recover(const v1::FaultSpec& spec, const FaultContext& context,
                         const nlohmann::json& undo_record) = 0;
  // After recover(): reads back that nothing of the fault is left, when the
  // kind can tell from the fault id and its undo record alone. OK carries
  // the evidence; FAILED_PRECONDITION names what is still there.
  virtual StatusOr<std::string> verify_recovered(const FaultContext& context, const nlohmann::json& undo_record) {
    (void)context;
    (void)undo_record;
    return std::string("not checked: recovered by a later agent process");
  }
  // Undoes what a fault with this id may have left behind when nothing but
  // the id is known (its journal entry is corrupt). Kinds that name every
  // kernel object after the fault id can do this; the rest say UNIMPLEMENTED.
  // Idempotent: nothing found is success.
  virtual Status recover_by_id(const FaultContext& context) {
    (void)context;
    return unimplemented(name() + ": cannot recover from the fault id alone");
  }
  // True when apply() and recover() honour FaultContext::container; the
  // agent refuses a target for the other kinds (INVALID_ARGUMENT).
  virtual bool acts_in_containers() const { return false; }
  // True when everything the kind leaves lives in a network namespace and
  // is named after the fault id (rules, qdiscs, tables): a container that
  // shared the agent's own namespace (hostNetwork) and is gone left them in
  // the agent's, where recovery then looks.
  virtual bool leaves_objects_in_network_namespace() const { return false; }
  // True when the kind acts only in containers (container.pause): a spec
  // without a target is INVALID_ARGUMENT.
  virtual bool needs_container_target() const { return false; }
  // The backend this kind would use on this machine (for Capabilities).
  virtual std::string backend() const = 0;
  // Linux capabilities ("CAP_NET_ADMIN") apply and revert need; an agent
  // that lacks one does not offer the kind (agent/os_capabilities.h).
  virtual std::vector<std::string> required_capabilities() const { return {}; }
  // True when something the fault changes outlives the kernel (a file on
  // disk): its journal records are then flushed to the disk before the call
  // goes on. A kind whose every change lives in the kernel's memory or in
  // processes (rules, qdiscs, signals, cgroups, its own threads) says false:
  // a power loss or kernel crash, the only thing that loses the page cache a
  // record waits in, ends such a fault too, and a killed agent still reads
  // the record (agent/README.md, "Journal"). A file such a kind keeps for
  // its own bookkeeping must tell an earlier boot's from this one's (the
  // network kinds' mangle baseline names its boot_id). True unless a kind
  // knows.
  virtual bool effect_survives_reboot() const { return true; }
};

}  // namespace chaos::agent
