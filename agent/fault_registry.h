// Owns every live fault on this agent. Each fault has an id, a TTL (its
// duration), an experiment and optionally a lease; the registry reverts it
// when the TTL ends, when its lease is not renewed in time (dead-man
// switch), on Revert / RevertAll, at shutdown, and - for faults a previous
// agent process left behind - at start-up from the journal.
//
// Time comes from the injected Clock: tick() is called by a watchdog thread
// about every 100 ms in the agent, and directly by tests with a FakeClock.
//
// Threading: every public method is thread-safe. Changes to the system
// (apply, revert, recover) are serialised; the registry's own bookkeeping is
// never locked while the system is being changed.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "agent/agent_metrics.h"
#include "agent/fault.h"
#include "agent/fault_journal.h"
#include "agent/lease_table.h"
#include "agent/policy.h"

namespace chaos::agent {

// A validated Inject request (see agent_service.h for the proto edge).
struct InjectCommand {
  std::string experiment_id;
  std::string lease_id;      // empty: the fault ends by TTL and revert only
  Duration lease_ttl{0};     // required (> 0) when the lease is new
  Duration duration{0};      // the fault's TTL, > 0
  v1::FaultSpec spec;
  std::string request_id;    // optional idempotency key
};

struct RevertOutcome {
  v1::Fault fault;
  bool already_reverted = false;
};

struct LeaseRenewal {
  WallTime expires_at{};
  std::uint32_t live_faults = 0;
};

struct FaultRegistryOptions {
  std::string node_name;
  Policy policy;
  std::size_t ended_retention = 256;        // ended faults kept for List / Revert
  Duration revert_retry_interval = std::chrono::seconds(1);
  std::function<void(const std::string&)> log;  // default: stderr
};

class FaultRegistry {
 public:
  FaultRegistry(Clock& clock, FaultJournal& journal, AgentMetrics& metrics, FaultRegistryOptions options);
  ~FaultRegistry();
  FaultRegistry(const FaultRegistry&) = delete;
  FaultRegistry& operator=(const FaultRegistry&) = delete;

  // Registration happens before serving; kinds are looked up by name().
  void add_kind(std::unique_ptr<FaultKind> kind);
  std::vector<const FaultKind*> kinds() const;
  const Policy& policy() const { return options_.policy; }

  // Start-up: reverts (FaultKind::recover) everything the journal holds from
  // a previous agent process. Returns how many entries were recovered.
  int recover_from_journal();

  // INVALID_ARGUMENT (field named), UNIMPLEMENTED (no such kind here),
  // PERMISSION_DENIED (policy), or the apply error; nothing stays applied
  // or journaled after an error.
  StatusOr<v1::Fault> inject(const InjectCommand& command);
  // An unknown or ended id is OK with already_reverted = true: the caller's
  // goal (the fault is not live) holds, and ids from before a restart or
  // past the retention window cannot be told apart from typos.
  StatusOr<RevertOutcome> revert(const std::string& fault_id);
  // Every live fault (of one experiment when experiment_id is non-empty).
  std::vector<v1::Fault> revert_all(const std::string& experiment_id);
  std::vector<v1::Fault> list(const std::string& experiment_id, bool include_ended) const;
  // NOT_FOUND when the lease is unknown or expired (its faults are gone).
  StatusOr<LeaseRenewal> renew_lease(const std::string& lease_id, Duration ttl);

  // TTLs, lease expiry, revert retries and LiveFault::on_tick.
  void tick();
  // Refuses new injections and reverts every live fault (reason "shutdown").
  void shutdown();

  std::size_t live_count() const;

 private:
  struct Entry;
  using EntryPtr = std::shared_ptr<Entry>;

  StatusOr<v1::Fault> inject_new(const InjectCommand& command, FaultKind& kind);
  StatusOr<EntryPtr> reserve(const InjectCommand& command, const std::string& kind, std::unique_lock<std::mutex>& lock);
  StatusOr<std::unique_ptr<LiveFault>> apply_reserved(const EntryPtr& entry, FaultKind& kind);
  void abandon(const EntryPtr& entry);
  bool begin_revert_locked(const EntryPtr& entry, const std::string& reason);
  void finish_revert(const EntryPtr& entry);
  std::vector<EntryPtr> collect_due_locked(SteadyTime now);
  void run_on_tick(const std::vector<EntryPtr>& entries, SteadyTime now);
  void retire_locked(const EntryPtr& entry);
  v1::Fault to_proto_locked(const Entry& entry) const;
  FaultKind* find_kind(const std::string& name) const;
  std::string new_fault_id_locked();
  void log(const std::string& line) const;

  Clock& clock_;
  FaultJournal& journal_;
  AgentMetrics& metrics_;
  FaultRegistryOptions options_;
  std::map<std::string, std::unique_ptr<FaultKind>> kinds_;

  mutable std::mutex mutex_;               // bookkeeping below
  std::condition_variable changed_;        // an entry left the applying state
  std::map<std::string, EntryPtr> faults_;  // applying, active, reverting, revert failed
  std::deque<EntryPtr> ended_;             // most recent last
  std::map<std::string, std::string> request_ids_;  // request id -> fault id
  LeaseTable leases_;
  bool shutting_down_ = false;

  std::mutex mutation_mutex_;  // serialises apply / revert / recover
};

}  // namespace chaos::agent
