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
//   ... on_tick() while live ...
//   revert()                   -> idempotent; "already gone" is success
// After a crash, a new agent process calls recover(spec, context, undo) for
// every journal entry; `undo` is null when the crash came mid-apply.
#pragma once

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

struct FaultContext {
  // Unique and stable across restarts; kinds name the kernel objects they
  // own after it (e.g. nft table "chaos_<id>") so recovery can find them.
  std::string fault_id;
  std::string experiment_id;
  Duration duration{0};
};

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
  // Applies completely or not at all: a failure part-way undoes every step.
  virtual StatusOr<std::unique_ptr<LiveFault>> apply(const v1::FaultSpec& spec,
                                                     const FaultContext& context) = 0;
  // Undoes what a previous agent process left behind; idempotent.
  virtual Status recover(const v1::FaultSpec& spec, const FaultContext& context,
                         const nlohmann::json& undo_record) = 0;
  // Undoes what a fault with this id may have left behind when nothing but
  // the id is known (its journal entry is corrupt). Kinds that name every
  // kernel object after the fault id can do this; the rest say UNIMPLEMENTED.
  // Idempotent: nothing found is success.
  virtual Status recover_by_id(const FaultContext& context) {
    (void)context;
    return unimplemented(name() + ": cannot recover from the fault id alone");
  }
  // The backend this kind would use on this machine (for Capabilities).
  virtual std::string backend() const = 0;
  // Linux capabilities ("CAP_NET_ADMIN") apply and revert need; an agent
  // that lacks one does not offer the kind (agent/os_capabilities.h).
  virtual std::vector<std::string> required_capabilities() const { return {}; }
};

}  // namespace chaos::agent
