// Owns every live fault on this agent. Each fault has an id, a TTL (its
// duration), an experiment and optionally a lease; the registry reverts it
// when the TTL ends, when its lease is not renewed in time (dead-man
// switch), when the fault itself reports it can no longer work, on Revert /
// RevertAll, at shutdown, and - for faults a previous agent process left
// behind - at start-up from the journal. A revert that fails stays live as
// REVERT_FAILED and is retried every revert_retry_interval.
//
// Time comes from the injected Clock: tick() is called by a watchdog thread
// in the agent (watchdog.h), and directly by tests with a FakeClock. tick()
// returns the next instant it has anything to do (a TTL, a lease expiry, a
// revert retry, the next on_tick of a live fault). When a new instant
// appears that is earlier than the wake already planned (an inject: its
// first on_tick one tick interval after its apply, or its TTL), and always
// for a lease created or renewed and a failed revert, the registry wakes the
// clock's sleepers (Clock::wake_all), so a watchdog sleeping until the old
// instant looks again at once.
//
// Threading: every public method is thread-safe. Faults are independent:
// each one's apply, revert and on_tick are serialised by that fault's own
// lock, and no registry-wide lock is ever held while the system is being
// changed. tick() only decides what is due and hands the reverts and
// on_ticks to the Executor, so a revert whose command hangs until its
// timeout never delays another fault's TTL or lease revert. Kinds must
// therefore be safe when different faults are applied and reverted
// concurrently.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "agent/agent_metrics.h"
#include "agent/fault.h"
#include "agent/fault_journal.h"
#include "agent/lease_table.h"
#include "agent/policy.h"
#include "common/worker_pool.h"

namespace chaos::agent {

// A validated Inject request (see agent_service.h for the proto edge).
struct InjectCommand {
  std::string experiment_id;
  std::string lease_id;      // empty: the fault ends by TTL and revert only
  Duration lease_ttl{0};     // required (> 0) when the lease is new
  Duration duration{0};      // the fault's TTL, > 0
  v1::FaultSpec spec;
  std::string request_id;    // optional idempotency key
  VerifyMode verify = VerifyMode::kRequired;
};

struct RevertOutcome {
  v1::Fault fault;
  bool already_reverted = false;
};

struct LeaseRenewal {
  WallTime expires_at{};
  std::uint32_t live_faults = 0;
};

// The registry's record of one fault (fault_entry.h).
struct FaultEntry;
class LeftoverTracker;

struct FaultRegistryOptions {
  std::string node_name;
  Policy policy;                            // also holds the bounds (policy.h)
  std::size_t ended_retention = 256;        // ended faults kept for List / Revert
  Duration revert_retry_interval = std::chrono::seconds(1);
  // How long RevertAll / shutdown wait for faults still applying or
  // reverting before they report them as not confirmed.
  Duration revert_all_timeout = std::chrono::seconds(30);
  // How often a live fault's counters are read (LiveFault::observe()).
  Duration observe_interval = std::chrono::seconds(1);
  // How often LiveFault::on_tick runs while a fault is live: the next
  // instant tick() asks for while any fault is active.
  Duration tick_interval = std::chrono::milliseconds(100);
  // The leftover detector (snapshot before an experiment's first fault,
  // comparison after its last revert). Null: no leftover checks.
  LeftoverTracker* leftovers = nullptr;
  // Runs reverts and on_ticks off the tick thread. Null: on the calling
  // thread (deterministic unit tests).
  Executor* executor = nullptr;
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
  // a previous agent process, and what corrupt entries name by their id
  // (FaultKind::recover_by_id). What cannot be reverted stays live as
  // REVERT_FAILED and is retried. Returns how many entries were reverted,
  // or the error when the journal cannot be listed: then what a previous
  // process left behind is unknown, and the agent must not serve.
  StatusOr<int> recover_from_journal();

  // INVALID_ARGUMENT (field and limit named), UNIMPLEMENTED (no such kind
  // here), PERMISSION_DENIED (policy), RESOURCE_EXHAUSTED (max_live_faults),
  // or the apply error; nothing stays applied or journaled after an error,
  // except a fault whose undo record could not be journaled and whose
  // revert then failed: it stays REVERT_FAILED and is retried.
  StatusOr<v1::Fault> inject(const InjectCommand& command);
  // The checks inject makes before it reserves anything (bounds, kind
  // offered, spec, policy), with the same errors; changes nothing. For dry
  // runs (InjectRequest.dry_run).
  Status check_inject(const InjectCommand& command) const;
  // An unknown or ended id is OK with already_reverted = true: the caller's
  // goal (the fault is not live) holds, and ids from before a restart or
  // past the retention window cannot be told apart from typos.
  StatusOr<RevertOutcome> revert(const std::string& fault_id);
  // Reverts every fault (of one experiment when experiment_id is non-empty),
  // including those still applying or reverting, and returns once each has
  // ended or failed (or revert_all_timeout passed): every matching fault
  // with its final state, REVERTED or REVERT_FAILED (still ACTIVE when its
  // revert outlived the timeout).
  std::vector<v1::Fault> revert_all(const std::string& experiment_id);
  std::vector<v1::Fault> list(const std::string& experiment_id, bool include_ended) const;
  // The leftover check of an experiment (RevertAllResponse.leftovers):
  // nullopt without a tracker or an experiment id; checked = false while a
  // fault of it is still live or reverting here.
  std::optional<v1::LeftoverReport> check_leftovers(const std::string& experiment_id);
  // Takes the leftover snapshot of an experiment ahead of its first fault
  // (a dry run with the run's experiment id: its preflight); nothing when
  // there is no tracker, no id, or a snapshot already.
  void prepare_leftover_check(const std::string& experiment_id);
  // NOT_FOUND when the lease is unknown or expired (its faults are gone).
  StatusOr<LeaseRenewal> renew_lease(const std::string& lease_id, Duration ttl);

  // TTLs, lease expiry, revert retries and LiveFault::on_tick (of each
  // active fault whose next tick is due: one tick interval after its apply,
  // then every tick interval). Returns when the next of these is due:
  // SteadyTime::max() when nothing is live and no lease is held.
  SteadyTime tick();
  // Refuses new injections and reverts every live fault (reason "shutdown").
  void shutdown();

  std::size_t live_count() const;

 private:
  using Entry = FaultEntry;
  using EntryPtr = std::shared_ptr<Entry>;

  StatusOr<v1::Fault> inject_new(const InjectCommand& command, FaultKind& kind,
                                 std::chrono::steady_clock::time_point received_at);
  // After apply: reads the effect back (verify_live) as the command's
  // verify mode asks. An error means the fault must be undone.
  Status verify_applied(Entry& entry, LiveFault& live);
  Status revert_unverified(const EntryPtr& entry, const Status& check, std::unique_lock<std::mutex>& lock);
  // After undo() succeeded: reads back that nothing of the fault is left.
  StatusOr<std::string> verify_undone(Entry& entry);
  StatusOr<EntryPtr> reserve(const InjectCommand& command, const std::string& kind, std::unique_lock<std::mutex>& lock);
  Status reserve_lease_locked(const InjectCommand& command, SteadyTime now);
  void wake_if_lease_expiry_earlier_locked(std::optional<SteadyTime> before);
  struct AppliedFault {
    std::unique_ptr<LiveFault> live;
    Status journal_error;  // the undo record could not be journaled
    // The apply failed, and live holds what its rollback could not undo.
    Status apply_error;
  };
  StatusOr<AppliedFault> apply_reserved(Entry& entry, FaultKind& kind);
  void activate_locked(Entry& entry, std::unique_ptr<LiveFault> live);
  bool undo_just_activated(const EntryPtr& entry, const std::string& reason, std::unique_lock<std::mutex>& lock);
  Status revert_unjournaled(const EntryPtr& entry, const Status& journal_error, std::unique_lock<std::mutex>& lock);
  Status revert_unfinished_rollback(const EntryPtr& entry, const Status& apply_error,
                                    std::unique_lock<std::mutex>& lock);
  void abandon_locked(const EntryPtr& entry);
  void forget_request_id_locked(const Entry& entry);
  bool begin_revert_locked(Entry& entry, const std::string& reason);
  void finish_revert(const EntryPtr& entry);
  Status undo(Entry& entry);
  Status undo_recovered(const Entry& entry);
  Status undo_by_id(const Entry& entry);
  void dispatch(std::function<void()> task);
  std::vector<EntryPtr> collect_due_locked(SteadyTime now);
  SteadyTime next_due_locked(SteadyTime now) const;
  // A deadline that may be earlier than what tick() last returned exists.
  void wake_scheduler() { clock_.wake_all(); }
  // Wakes the scheduler only when `due` is earlier than the instant it
  // already plans to wake at (what tick() last returned).
  void wake_scheduler_for_locked(SteadyTime due);
  void run_on_tick(const EntryPtr& entry, SteadyTime now, bool observe_due);
  void record_observation_locked(Entry& entry, const FaultEffect& effect);
  void retire_locked(const EntryPtr& entry);
  void update_state_metrics_locked();
  EntryPtr recovered_entry(const JournalEntry& record) const;
  void recover_entry(const EntryPtr& entry, const std::string& what);
  int recover_corrupt(const std::vector<FaultJournal::CorruptEntry>& corrupt);
  void keep_corrupt(const FaultJournal::CorruptEntry& item, const std::string& why);
  v1::Fault to_proto_locked(const Entry& entry) const;
  FaultKind* find_kind(const std::string& name) const;
  // The kind for `command` once every pre-reservation check has passed.
  StatusOr<FaultKind*> checked_kind(const InjectCommand& command) const;
  std::string new_fault_id_locked();
  void log(const std::string& line) const;
  // Under mutex_: the line is written by flush_log_later() once the lock is
  // released, so a stalled stderr (journald) never holds up the reverts,
  // lease renewals and ticks that need mutex_.
  void log_later_locked(std::string line);
  void flush_log_later();

  Clock& clock_;
  FaultJournal& journal_;
  AgentMetrics& metrics_;
  FaultRegistryOptions options_;
  InlineExecutor inline_executor_;
  Executor& executor_;
  std::map<std::string, std::unique_ptr<FaultKind>> kinds_;

  mutable std::mutex mutex_;               // bookkeeping below and every Entry's state fields
  std::condition_variable changed_;        // an entry finished applying or reverting
  std::map<std::string, EntryPtr> faults_;  // applying, active, reverting, revert failed
  std::deque<EntryPtr> ended_;             // most recent last
  std::map<std::string, std::string> request_ids_;  // request id -> fault id
  std::vector<std::string> log_later_;              // log_later_locked()
  std::size_t log_later_dropped_ = 0;
  LeaseTable leases_;
  // What tick() last returned: the watchdog wakes by then at the latest.
  // max() until the first tick, so every deadline wakes it.
  SteadyTime planned_wake_ = SteadyTime::max();
  bool shutting_down_ = false;
  int dispatched_ = 0;                     // tasks handed to the executor and not yet ended
};

}  // namespace chaos::agent
