#include "agent/fault_registry.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <iostream>
#include <optional>
#include <random>
#include <set>

#include "agent/fault_entry.h"
#include "agent/fault_entry_mapping.h"
#include "agent/leftover_tracker.h"
#include "agent/unfinished_rollback.h"
#include "common/check.h"
#include "common/crash_point.h"
#include "common/duration.h"
#include "proto/fault_kinds.h"

namespace chaos::agent {

namespace {

std::string result_label(const Status& status) {
  if (status.ok()) return "ok";
  std::string name = status_code_name(status.code());
  std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
  return name;
}

// Checked before any time arithmetic, so `now + duration` cannot overflow.
Status validate_command(const InjectCommand& command, const std::string& kind_name, const Policy& policy) {
  if (kind_name.empty()) return invalid_argument("spec: no fault kind set");
  if (command.duration.count() <= 0) return invalid_argument("duration: required and must be positive");
  CHAOS_RETURN_IF_ERROR(check_duration_bound(policy, command.duration));
  if (command.lease_ttl.count() < 0) return invalid_argument("lease_ttl: must not be negative");
  if (command.lease_id.empty() && command.lease_ttl.count() > 0) {
    return invalid_argument("lease_ttl: set without lease_id");
  }
  return check_lease_ttl_bound(policy, command.lease_ttl, "lease_ttl");
}

bool is_settled(EntryState state) {
  return state == EntryState::kReverted || state == EntryState::kRevertFailed ||
         state == EntryState::kFailedToApply;
}

// "target_gone: container 3f2a stopped" -> "target_gone".
std::string reason_of_abort(const std::string& message) {
  const auto end = message.find_first_of(": ");
  std::string reason = message.substr(0, end);
  const bool word = !reason.empty() && std::all_of(reason.begin(), reason.end(), [](unsigned char c) {
    return std::islower(c) || c == '_';
  });
  return word ? reason : "failed";
}

}  // namespace

FaultRegistry::FaultRegistry(Clock& clock, FaultJournal& journal, AgentMetrics& metrics,
                             FaultRegistryOptions options)
    : clock_(clock),
      journal_(journal),
      metrics_(metrics),
      options_(std::move(options)),
      executor_(options_.executor != nullptr ? *options_.executor : inline_executor_) {}

// Reverts and on_ticks handed to the executor use this registry until they
// end; one still running after RevertAll's timeout (or an on_tick) would
// otherwise outlive it.
FaultRegistry::~FaultRegistry() {
  std::unique_lock lock(mutex_);
  changed_.wait(lock, [this] { return dispatched_ == 0; });
}

void FaultRegistry::add_kind(std::unique_ptr<FaultKind> kind) {
  const std::string name = kind->name();
  CHAOS_CHECK(fault_kind_from_name(name) != v1::FaultSpec::KIND_NOT_SET, "fault kind not in proto/fault_kinds");
  metrics_.declare_kind(name);
  kinds_[name] = std::move(kind);
}

std::vector<const FaultKind*> FaultRegistry::kinds() const {
  std::vector<const FaultKind*> list;
  for (const auto& [name, kind] : kinds_) list.push_back(kind.get());
  return list;
}

FaultKind* FaultRegistry::find_kind(const std::string& name) const {
  auto found = kinds_.find(name);
  return found == kinds_.end() ? nullptr : found->second.get();
}

void FaultRegistry::log(const std::string& line) const {
  if (options_.log) {
    options_.log(line);
  } else {
    std::cerr << "chaos-agent: " << line << std::endl;
  }
}

void FaultRegistry::log_later_locked(std::string line) {
  constexpr std::size_t kMaxLinesWaiting = 256;
  if (log_later_.size() < kMaxLinesWaiting) {
    log_later_.push_back(std::move(line));
  } else {
    ++log_later_dropped_;
  }
}

void FaultRegistry::flush_log_later() {
  std::vector<std::string> lines;
  std::size_t dropped = 0;
  {
    std::lock_guard lock(mutex_);
    lines.swap(log_later_);
    std::swap(dropped, log_later_dropped_);
  }
  for (const auto& line : lines) log(line);
  if (dropped > 0) log(std::to_string(dropped) + " more log lines dropped while the log was not being written");
}

std::string FaultRegistry::new_fault_id_locked() {
  // Short, lower-case alphanumeric: kinds name kernel objects after it
  // (nft tables, interfaces), where length and characters are limited.
  static thread_local std::mt19937_64 random{std::random_device{}()};
  for (;;) {
    char text[16];
    std::snprintf(text, sizeof(text), "f%011llx",
                  static_cast<unsigned long long>(random() & 0xfffffffffffULL));
    std::string id(text);
    const bool ended = std::any_of(ended_.begin(), ended_.end(), [&](const EntryPtr& e) { return e->id == id; });
    if (faults_.count(id) == 0 && !ended) return id;
  }
}

void FaultRegistry::dispatch(std::function<void()> task) {
  struct Done {
    FaultRegistry& registry;
    ~Done() {
      // Notified under the lock: the destructor may end the registry as
      // soon as the lock is free.
      std::lock_guard lock(registry.mutex_);
      --registry.dispatched_;
      registry.changed_.notify_all();
    }
  };
  {
    std::lock_guard lock(mutex_);
    ++dispatched_;
  }
  // A full queue, or no memory to queue the task (bad_alloc), must not drop
  // a revert that collect_due_locked already marked as reverting: run it
  // here instead.
  std::shared_ptr<std::function<void()>> shared;
  try {
    shared = std::make_shared<std::function<void()>>(std::move(task));
    if (executor_.submit([this, shared] {
          Done done{*this};
          (*shared)();
        })) {
      return;
    }
  } catch (...) {
  }
  Done done{*this};
  if (shared != nullptr) {
    (*shared)();
  } else {
    task();
  }
}

// ------------------------------------------------------------------ inject

StatusOr<FaultKind*> FaultRegistry::checked_kind(const InjectCommand& command) const {
  const std::string kind_name = fault_kind_name(command.spec);
  CHAOS_RETURN_IF_ERROR(validate_command(command, kind_name, options_.policy));
  FaultKind* kind = find_kind(kind_name);
  if (kind == nullptr) return unimplemented("spec: fault kind '" + kind_name + "' is not available on this agent");
  CHAOS_RETURN_IF_ERROR(kind->validate(command.spec));
  CHAOS_RETURN_IF_ERROR(check_policy(options_.policy, *kind, command.spec));
  return kind;
}

Status FaultRegistry::check_inject(const InjectCommand& command) const {
  CHAOS_ASSIGN_OR_RETURN(FaultKind* kind, checked_kind(command));
  return kind->check_targets(command.spec);
}

StatusOr<v1::Fault> FaultRegistry::inject(const InjectCommand& command) {
  const auto started = std::chrono::steady_clock::now();  // real latency, not fake time
  const std::string kind_name = fault_kind_name(command.spec);
  StatusOr<v1::Fault> result = [&]() -> StatusOr<v1::Fault> {
    CHAOS_ASSIGN_OR_RETURN(FaultKind* kind, checked_kind(command));
    return inject_new(command, *kind, started);
  }();
  const std::chrono::duration<double> seconds = std::chrono::steady_clock::now() - started;
  metrics_.injection(kind_name.empty() ? "none" : kind_name, result_label(result.status()), seconds.count());
  return result;
}

StatusOr<v1::Fault> FaultRegistry::inject_new(const InjectCommand& command, FaultKind& kind,
                                              std::chrono::steady_clock::time_point received_at) {
  std::unique_lock lock(mutex_);
  CHAOS_ASSIGN_OR_RETURN(EntryPtr entry, reserve(command, kind.name(), lock));
  if (entry->state != EntryState::kApplying) return to_proto_locked(*entry);  // idempotent repeat
  entry->verify = command.verify;
  entry->received_at = received_at;
  lock.unlock();
  // The state before the experiment's first fault here, for the leftover
  // check after its last revert; taken before anything is applied.
  if (options_.leftovers != nullptr && !command.experiment_id.empty()) {
    options_.leftovers->before_fault(command.experiment_id, entry->id);
  }
  StatusOr<AppliedFault> applied = apply_reserved(*entry, kind);
  // The check runs before the fault is reported live; a revert asked for
  // meanwhile waits as pending_revert, as during the apply.
  const bool applied_fully = applied.ok() && applied->apply_error.ok() && applied->journal_error.ok();
  Status check = applied_fully ? verify_applied(*entry, *applied->live) : Status{};
  lock.lock();
  if (!applied.ok()) {
    abandon_locked(entry);
    return applied.status();
  }
  activate_locked(*entry, std::move(applied->live));
  if (!applied->apply_error.ok()) return revert_unfinished_rollback(entry, applied->apply_error, lock);
  if (!applied->journal_error.ok()) return revert_unjournaled(entry, applied->journal_error, lock);
  if (!check.ok()) return revert_unverified(entry, check, lock);
  const std::string pending = entry->pending_revert;
  if (!pending.empty() && begin_revert_locked(*entry, pending)) {
    lock.unlock();
    finish_revert(entry);
    lock.lock();
  }
  return to_proto_locked(*entry);
}

// Finds the fault of a repeated request id (waiting while it is applied), or
// reserves a new entry in the applying state.
StatusOr<FaultRegistry::EntryPtr> FaultRegistry::reserve(const InjectCommand& command, const std::string& kind,
                                                         std::unique_lock<std::mutex>& lock) {
  while (!command.request_id.empty() && request_ids_.count(command.request_id) > 0) {
    const std::string id = request_ids_[command.request_id];
    EntryPtr existing = faults_.count(id) > 0 ? faults_[id] : nullptr;
    for (const auto& ended : ended_) {
      if (ended->id == id) existing = ended;
    }
    if (!existing) {
      request_ids_.erase(command.request_id);
      break;
    }
    if (existing->spec.SerializeAsString() != command.spec.SerializeAsString()) {
      return invalid_argument("request_id: '" + command.request_id + "' was already used for fault " + id +
                              " with a different spec");
    }
    if (existing->state != EntryState::kApplying) return existing;
    changed_.wait(lock);
  }
  if (shutting_down_) return unavailable("agent is shutting down");
  if (faults_.size() >= options_.policy.max_live_faults) {
    return resource_exhausted("live faults: " + std::to_string(faults_.size()) +
                              " are live or still reverting on this agent, the limit is " +
                              std::to_string(options_.policy.max_live_faults) +
                              " (policy.max_live_faults); revert some first");
  }
  CHAOS_RETURN_IF_ERROR(reserve_lease_locked(command, clock_.steady_now()));
  auto entry = std::make_shared<Entry>();
  entry->id = new_fault_id_locked();
  entry->kind = kind;
  entry->experiment_id = command.experiment_id;
  entry->lease_id = command.lease_id;
  entry->request_id = command.request_id;
  entry->spec = command.spec;
  entry->duration = command.duration;
  faults_[entry->id] = entry;
  if (!command.request_id.empty()) request_ids_[command.request_id] = entry->id;
  return entry;
}

// Most renewals only push the earliest lease expiry later: the watchdog
// sleeps until the old one at most, so only an earlier one wakes it.
void FaultRegistry::wake_if_lease_expiry_earlier_locked(std::optional<SteadyTime> before) {
  const std::optional<SteadyTime> after = leases_.next_expiry();
  if (after && (!before || *after < *before)) wake_scheduler();
}

Status FaultRegistry::reserve_lease_locked(const InjectCommand& command, SteadyTime now) {
  if (command.lease_id.empty()) return {};
  const auto lease = leases_.find(command.lease_id);
  if (lease && lease->expires_at <= now) {
    return failed_precondition("lease_id: lease '" + command.lease_id +
                               "' has expired and its faults are being reverted; use a new lease");
  }
  if (!lease && command.lease_ttl.count() <= 0) {
    return invalid_argument("lease_ttl: required (> 0) to create lease '" + command.lease_id + "'");
  }
  const std::optional<SteadyTime> before = leases_.next_expiry();
  leases_.create_or_extend(command.lease_id, command.lease_ttl, now);
  wake_if_lease_expiry_earlier_locked(before);  // a new lease, or a shorter TTL
  return {};
}

// Journal first, then apply, then journal the undo record. A failure before
// the apply succeeded leaves neither the fault nor its journal entry behind,
// unless the apply's rollback could not undo something: that comes back as
// the live fault with the apply's error, for revert_unfinished_rollback,
// and the "applying" entry stays. A failure to journal the undo record
// returns the live fault with the error, for revert_unjournaled. Holds only
// this fault's op_mutex: other faults apply and revert meanwhile. The
// entry's fields read here do not change after reserve().
StatusOr<FaultRegistry::AppliedFault> FaultRegistry::apply_reserved(Entry& entry, FaultKind& kind) {
  std::lock_guard op(entry.op_mutex);
  const JournalFlush flush = kind.effect_survives_reboot() ? JournalFlush::kToDisk : JournalFlush::kPageCacheOnly;
  JournalEntry record = to_journal_entry(entry, JournalPhase::kApplying, nullptr, clock_.wall_now());
  if (Status written = journal_.write(record, flush); !written.ok()) {
    (void)journal_.remove(entry.id);  // a partial temp file is gone already; this is for a full disk's leftovers
    return unavailable("cannot journal the fault before applying it, so it was not applied: " + written.message());
  }
  RollbackStack unfinished;  // what the apply's own rollback could not undo
  const FaultContext context{entry.id, entry.experiment_id, entry.duration, nullptr, &entry.spec, &unfinished};
  StatusOr<std::unique_ptr<LiveFault>> live = internal_error("apply did not run");
  try {
    live = kind.apply(entry.spec, context);
  } catch (const std::exception& error) {
    // A throwing kind broke its all-or-nothing promise: clean up like a crash.
    live = internal_error(std::string("apply threw: ") + error.what());
    if (Status cleaned = kind.recover(entry.spec, context, nullptr); !cleaned.ok()) {
      // Something of it may be on the system: the clean-up is retried with
      // whatever the apply's rollback left, and the "applying" entry stays
      // until it succeeds (or for the next start-up).
      log("fault " + entry.id + ": cleaning up after the apply threw failed, retrying: " + cleaned.message());
      FaultContext retry = context;
      retry.failed_rollback = nullptr;
      unfinished.push("the clean-up after the apply threw",
                      [&kind, &spec = entry.spec, retry] { return kind.recover(spec, retry, nullptr); });
    }
  }
  if (!live.ok() && !unfinished.empty()) {
    const std::string left = unfinished.pending();
    log("fault " + entry.id + ": the failed apply could not undo " + left +
        "; the agent keeps retrying, and its journal entry stays until that succeeds");
    const Status failed(live.status().code(), live.status().message() + "; its rollback could not undo " + left);
    return AppliedFault{std::make_unique<UnfinishedRollback>(std::move(unfinished), kind, context), Status{}, failed};
  }
  if (!live.ok()) {
    if (Status removed = journal_.remove(entry.id); !removed.ok()) log(removed.message());
    return live.status();
  }
  if (Status undone = unfinished.unwind(); !undone.ok()) {  // a step the apply recovered from on another way
    log("fault " + entry.id + ": applied, but a step it took back on the way is still there: " + undone.message());
  }
  unfinished.release();
  crash_point("apply.done " + entry.id);
  record.phase = JournalPhase::kApplied;
  record.undo = (*live)->undo_record();
  Status written = journal_.write(record, flush);
  return AppliedFault{std::move(*live), std::move(written), Status{}};
}

// Undoes a fault that was just activated but must not stay live (its undo
// record was not journaled, or it did not take effect); its request id no
// longer names it. False when the undo failed: the fault then stays
// REVERT_FAILED and is retried like any other.
bool FaultRegistry::undo_just_activated(const EntryPtr& entry, const std::string& reason,
                                        std::unique_lock<std::mutex>& lock) {
  forget_request_id_locked(*entry);
  const bool began = begin_revert_locked(*entry, reason);
  CHAOS_CHECK(began, "a fault just activated is not being reverted yet");
  lock.unlock();
  finish_revert(entry);
  lock.lock();
  return entry->state != EntryState::kRevertFailed;
}

// The fault is on the system, but only its "applying" journal entry is on
// disk (the next start-up recovers from that). It must not stay live as if
// it had been journaled, so it is reverted now; a revert that fails stays
// REVERT_FAILED, keeps the entry and is retried like any other. The inject
// fails either way, and a repeat of its request id applies anew.
Status FaultRegistry::revert_unjournaled(const EntryPtr& entry, const Status& journal_error,
                                         std::unique_lock<std::mutex>& lock) {
  if (!undo_just_activated(entry, "journal_failed", lock)) {
    return unavailable("cannot journal the applied fault " + entry->id + ": " + journal_error.message() +
                       "; reverting it failed too (" + entry->last_error + "), the agent keeps retrying");
  }
  return unavailable("cannot journal the applied fault, so it was reverted: " + journal_error.message());
}

// The apply failed, and its rollback left something on the system. That is
// reverted again now, through the same path as any fault (its gone check,
// REVERT_FAILED and retries while it fails, the journal entry removed once
// it is gone). The inject fails either way.
Status FaultRegistry::revert_unfinished_rollback(const EntryPtr& entry, const Status& apply_error,
                                                 std::unique_lock<std::mutex>& lock) {
  if (!undo_just_activated(entry, "apply_failed", lock)) {
    return Status(apply_error.code(), apply_error.message() + ", nor could a retry (" + entry->last_error +
                                          "); the agent keeps retrying it as fault " + entry->id);
  }
  return Status(apply_error.code(), apply_error.message() + " at first; a retry did");
}

void FaultRegistry::activate_locked(Entry& entry, std::unique_ptr<LiveFault> live) {
  {
    std::lock_guard op(entry.op_mutex);  // never contended here: the apply is over
    entry.backend = live->backend();
    entry.containers = live->containers();
    entry.detail = live->detail();
    entry.live = std::move(live);
  }
  entry.applied_at = clock_.wall_now();
  const SteadyTime now = clock_.steady_now();
  entry.expires_at = now + entry.duration;  // bounded by validate_command
  // verify_live() just read everything back; the next look is due later,
  // and so is the first on_tick: the apply itself was this instant's work.
  entry.next_observe = now + options_.observe_interval;
  entry.next_tick = now + options_.tick_interval;
  entry.state = EntryState::kActive;
  metrics_.fault_started({entry.experiment_id, entry.kind, entry.id, entry.backend});
  changed_.notify_all();
  wake_scheduler_for_locked(std::min(entry.expires_at, entry.next_tick));  // its TTL and its on_ticks
}

// Waking the watchdog is a thread hand-off (and a tick) per inject; while
// another fault keeps it ticking, a new fault's first deadline is usually
// no earlier than the wake it already plans, and the wake is skipped.
void FaultRegistry::wake_scheduler_for_locked(SteadyTime due) {
  if (due >= planned_wake_) return;
  planned_wake_ = due;  // the woken watchdog's tick sets it again
  wake_scheduler();
}

void FaultRegistry::abandon_locked(const EntryPtr& entry) {
  entry->state = EntryState::kFailedToApply;
  ++entry->finished_reverts;
  faults_.erase(entry->id);
  forget_request_id_locked(*entry);
  changed_.notify_all();
}

void FaultRegistry::forget_request_id_locked(const Entry& entry) {
  auto request = request_ids_.find(entry.request_id);
  if (request != request_ids_.end() && request->second == entry.id) request_ids_.erase(request);
}

// ------------------------------------------------------------------ revert

bool FaultRegistry::begin_revert_locked(Entry& entry, const std::string& reason) {
  switch (entry.state) {
    case EntryState::kApplying:
      if (entry.pending_revert.empty()) entry.pending_revert = reason;
      return false;
    case EntryState::kActive:
      entry.revert_reason = reason;
      entry.revert_requested_at = std::chrono::steady_clock::now();
      [[fallthrough]];
    case EntryState::kRevertFailed:  // a retry keeps the first reason
      entry.state = EntryState::kReverting;
      entry.stop_ticking = true;
      return true;
    case EntryState::kReverting:
    case EntryState::kReverted:
    case EntryState::kFailedToApply:
      return false;
  }
  return false;
}

// Faults of a previous agent process are undone by fault_recovery.cc.
Status FaultRegistry::undo(Entry& entry) {
  switch (entry.undo_path) {
    case UndoPath::kLive:
      CHAOS_CHECK(entry.live != nullptr, "a live fault without its LiveFault");
      return entry.live->revert();
    case UndoPath::kRecover:
      return undo_recovered(entry);
    case UndoPath::kRecoverById:
      return undo_by_id(entry);
  }
  return internal_error("unknown undo path");
}

void FaultRegistry::finish_revert(const EntryPtr& entry) {
  Status status;
  {
    std::lock_guard op(entry->op_mutex);
    crash_point("revert.begin " + entry->id);
    try {
      status = undo(*entry);
    } catch (const std::exception& error) {
      status = internal_error(std::string("revert threw: ") + error.what());
    }
    // Reverted means gone, read back from the system: a revert whose
    // objects are still there is REVERT_FAILED and retried like any other.
    if (status.ok()) {
      auto gone = verify_undone(*entry);
      if (gone.ok()) {
        std::lock_guard lock(mutex_);
        entry->gone_evidence = *gone;
        entry->gone_verified_at = clock_.wall_now();
        entry->time_to_gone =
            std::chrono::duration_cast<Duration>(std::chrono::steady_clock::now() - entry->revert_requested_at);
      } else {
        status = gone.status().with_context("gone check after the revert");
      }
    }
    if (status.ok()) {
      // The fault itself is gone, so it is REVERTED. A journal entry left
      // behind is only reverted again at the next start-up, which is
      // idempotent: log it and go on.
      const Status removed = entry->undo_path == UndoPath::kRecoverById ? journal_.remove_corrupt(entry->corrupt_path)
                                                                         : journal_.remove(entry->id);
      if (!removed.ok()) {
        log("fault " + entry->id + " reverted, but its journal entry stays (the next start reverts it again): " +
            removed.message());
      }
      entry->live.reset();
    }
  }
  {
    std::lock_guard lock(mutex_);
    metrics_.revert(entry->kind, entry->revert_reason, status.ok() ? "ok" : "error");
    metrics_.effect_check(entry->kind, "gone", status.ok() ? "verified" : "failed");
    if (status.ok()) metrics_.time_to_gone(entry->kind, std::chrono::duration<double>(entry->time_to_gone).count());
    ++entry->finished_reverts;
    if (status.ok()) {
      entry->state = EntryState::kReverted;
      entry->reverted_at = clock_.wall_now();
      if (entry->undo_path == UndoPath::kLive) {
        metrics_.fault_ended({entry->experiment_id, entry->kind, entry->id, entry->backend});
      }
      retire_locked(entry);
    } else {
      entry->state = EntryState::kRevertFailed;
      entry->next_retry = clock_.steady_now() + options_.revert_retry_interval;
      wake_scheduler();
      // Logged when the failure changes, not at every retry.
      if (status.message() != entry->last_error) {
        log_later_locked("fault " + entry->id + " (" + entry->kind +
                         "): revert failed, will retry: " + status.message());
      }
      entry->last_error = status.message();
      entry->last_error_code = status.code();
    }
    update_state_metrics_locked();
    changed_.notify_all();
  }
  flush_log_later();
}

void FaultRegistry::retire_locked(const EntryPtr& entry) {
  faults_.erase(entry->id);
  ended_.push_back(entry);
  while (ended_.size() > options_.ended_retention) {
    forget_request_id_locked(*ended_.front());
    ended_.pop_front();
  }
}

void FaultRegistry::update_state_metrics_locked() {
  const auto failed = std::count_if(faults_.begin(), faults_.end(), [](const auto& item) {
    return item.second->state == EntryState::kRevertFailed;
  });
  metrics_.set_revert_failed(static_cast<double>(failed));
}

StatusOr<RevertOutcome> FaultRegistry::revert(const std::string& fault_id) {
  if (fault_id.empty()) return invalid_argument("fault_id: required");
  std::unique_lock lock(mutex_);
  for (;;) {
    auto found = faults_.find(fault_id);
    if (found == faults_.end()) {
      for (const auto& ended : ended_) {
        if (ended->id == fault_id) return RevertOutcome{to_proto_locked(*ended), true};
      }
      return RevertOutcome{unknown_reverted_fault(fault_id, options_.node_name), true};
    }
    EntryPtr entry = found->second;
    if (entry->state == EntryState::kApplying || entry->state == EntryState::kReverting) {
      changed_.wait(lock);  // let the apply or the other revert finish, then look again
      continue;
    }
    begin_revert_locked(*entry, "request");
    lock.unlock();
    finish_revert(entry);
    lock.lock();
    if (entry->state == EntryState::kRevertFailed) {
      return internal_error("fault " + fault_id + ": revert failed: " + entry->last_error +
                            " (the agent keeps retrying)");
    }
    return RevertOutcome{to_proto_locked(*entry), false};
  }
}

std::vector<v1::Fault> FaultRegistry::revert_all(const std::string& experiment_id) {
  std::vector<std::pair<EntryPtr, int>> matching;  // entry, finished reverts before this call
  std::vector<EntryPtr> to_run;
  {
    std::lock_guard lock(mutex_);
    const std::string reason = shutting_down_ ? "shutdown" : "request";
    for (const auto& [id, entry] : faults_) {
      if (!experiment_id.empty() && entry->experiment_id != experiment_id) continue;
      matching.emplace_back(entry, entry->finished_reverts);
      // Applying: reverted by its inject as soon as the apply ends.
      // Reverting: its revert is already under way; we wait for it below.
      if (begin_revert_locked(*entry, reason)) to_run.push_back(entry);
    }
  }
  for (const auto& entry : to_run) dispatch([this, entry] { finish_revert(entry); });
  std::unique_lock lock(mutex_);
  const auto settled = [&] {
    return std::all_of(matching.begin(), matching.end(), [](const auto& item) {
      return is_settled(item.first->state) && item.first->finished_reverts > item.second;
    });
  };
  // Real time: a revert waits on real commands whatever the injected clock says.
  changed_.wait_for(lock, options_.revert_all_timeout, settled);
  std::vector<v1::Fault> faults;
  for (const auto& [entry, before] : matching) {
    if (entry->state == EntryState::kFailedToApply) continue;  // never applied: nothing was there
    v1::Fault fault = to_proto_locked(*entry);
    if (!is_settled(entry->state)) {
      fault.set_detail(fault.detail() + " (revert still in progress after " +
                       format_duration(options_.revert_all_timeout) + ")");
    }
    faults.push_back(std::move(fault));
  }
  return faults;
}

void FaultRegistry::shutdown() {
  {
    std::lock_guard lock(mutex_);
    shutting_down_ = true;
  }
  const auto faults = revert_all("");
  for (const auto& fault : faults) {
    if (fault.state() != v1::FAULT_STATE_REVERTED) {
      log("shutdown: fault " + fault.id() + " could not be reverted; its journal entry stays for the next start");
    }
  }
}

// ------------------------------------------------------------------ leases, list

StatusOr<LeaseRenewal> FaultRegistry::renew_lease(const std::string& lease_id, Duration ttl) {
  if (lease_id.empty()) return invalid_argument("lease_id: required");
  if (ttl.count() < 0) return invalid_argument("ttl: must not be negative");
  CHAOS_RETURN_IF_ERROR(check_lease_ttl_bound(options_.policy, ttl, "ttl"));
  std::lock_guard lock(mutex_);
  const SteadyTime now = clock_.steady_now();
  const std::optional<SteadyTime> before = leases_.next_expiry();
  const auto lease = leases_.renew(lease_id, ttl, now);
  if (!lease) {
    return not_found("lease_id: lease '" + lease_id + "' is unknown or expired (its faults were reverted)");
  }
  wake_if_lease_expiry_earlier_locked(before);  // a renewal may shorten the TTL
  LeaseRenewal renewal;
  renewal.expires_at = clock_.wall_now() + std::chrono::duration_cast<WallTime::duration>(lease->expires_at - now);
  for (const auto& [id, entry] : faults_) {
    if (entry->lease_id == lease_id) ++renewal.live_faults;
  }
  return renewal;
}

std::vector<v1::Fault> FaultRegistry::list(const std::string& experiment_id, bool include_ended) const {
  std::lock_guard lock(mutex_);
  std::vector<v1::Fault> faults;
  auto add = [&](const Entry& entry) {
    if (experiment_id.empty() || entry.experiment_id == experiment_id) faults.push_back(to_proto_locked(entry));
  };
  if (include_ended) {
    for (const auto& entry : ended_) add(*entry);
  }
  for (const auto& [id, entry] : faults_) add(*entry);
  return faults;
}

std::size_t FaultRegistry::live_count() const {
  std::lock_guard lock(mutex_);
  return faults_.size();
}

// ------------------------------------------------------------------ time

SteadyTime FaultRegistry::tick() {
  const SteadyTime now = clock_.steady_now();
  std::vector<EntryPtr> due;
  std::vector<std::pair<EntryPtr, bool>> ticking;  // entry, observe() due
  SteadyTime next = SteadyTime::max();
  {
    std::lock_guard lock(mutex_);
    due = collect_due_locked(now);
    for (const auto& [id, entry] : faults_) {
      if (entry->state != EntryState::kActive || entry->tick_in_flight || entry->next_tick > now) continue;
      entry->tick_in_flight = true;  // a slow on_tick is not queued twice
      entry->next_tick = now + options_.tick_interval;
      const bool observe_due = entry->next_observe <= now;
      if (observe_due) entry->next_observe = now + options_.observe_interval;
      ticking.emplace_back(entry, observe_due);
    }
    next = next_due_locked(now);
    planned_wake_ = next;
  }
  flush_log_later();
  for (const auto& entry : due) dispatch([this, entry] { finish_revert(entry); });
  for (const auto& [entry, observe_due] : ticking) {
    dispatch([this, entry, now, observe_due] { run_on_tick(entry, now, observe_due); });
  }
  return next;
}

// Faults applying or reverting have no deadline of their own: their end
// (activate_locked, a failed revert) wakes the scheduler.
SteadyTime FaultRegistry::next_due_locked(SteadyTime now) const {
  SteadyTime next = leases_.next_expiry().value_or(SteadyTime::max());
  for (const auto& [id, entry] : faults_) {
    if (entry->state == EntryState::kActive) {
      // An on_tick still running (next_tick passed) is looked at again in
      // a tick interval, not in a spin.
      const SteadyTime tick_at = entry->next_tick > now ? entry->next_tick : now + options_.tick_interval;
      next = std::min({next, entry->expires_at, tick_at});
    } else if (entry->state == EntryState::kRevertFailed) {
      next = std::min(next, entry->next_retry);
    }
  }
  return next;
}

std::vector<FaultRegistry::EntryPtr> FaultRegistry::collect_due_locked(SteadyTime now) {
  std::set<std::string> expired;
  for (const auto& lease : leases_.take_expired(now)) {
    metrics_.lease_expired();
    expired.insert(lease.id);
  }
  std::vector<EntryPtr> due;
  for (const auto& [id, entry] : faults_) {
    const bool lease_gone = !entry->lease_id.empty() && expired.count(entry->lease_id) > 0;
    std::string reason;
    if (lease_gone) {
      reason = "lease";
    } else if (entry->state == EntryState::kActive && entry->expires_at <= now) {
      reason = "ttl";
    } else if (entry->state == EntryState::kRevertFailed && entry->next_retry <= now) {
      reason = entry->revert_reason;
    } else {
      continue;
    }
    if (lease_gone && entry->state == EntryState::kActive) {
      log_later_locked("lease " + entry->lease_id + " expired: reverting fault " + entry->id);
    }
    if (begin_revert_locked(*entry, reason)) due.push_back(entry);
  }
  return due;
}

void FaultRegistry::run_on_tick(const EntryPtr& entry, SteadyTime now, bool observe_due) {
  Status status;
  std::optional<StatusOr<FaultEffect>> observed;
  std::string detail;  // refreshed with the counters: its figures are live too
  {
    std::lock_guard op(entry->op_mutex);
    if (!entry->stop_ticking && entry->live) {
      try {
        status = entry->live->on_tick(now);
        if (observe_due && status.ok()) {
          observed = entry->live->observe();
          detail = entry->live->detail();
        }
      } catch (const std::exception& error) {
        status = internal_error(std::string("on_tick threw: ") + error.what());
      }
      // Log a repeating failure once, not ten times a second.
      const std::string message = status.ok() ? "" : status.message();
      if (!message.empty() && message != entry->last_tick_error) log("fault " + entry->id + ": " + message);
      entry->last_tick_error = message;
    }
  }
  std::unique_lock lock(mutex_);
  entry->tick_in_flight = false;
  if (observed && observed->ok() && entry->state == EntryState::kActive) {
    record_observation_locked(*entry, **observed);
    if (!detail.empty()) entry->detail = detail;
  }
  if (status.code() != StatusCode::kAborted) return;
  // The fault says it can no longer work (its target is gone, its engine
  // died): end it now rather than let it look live until its TTL.
  if (!begin_revert_locked(*entry, reason_of_abort(status.message()))) return;
  lock.unlock();
  finish_revert(entry);
}

// ------------------------------------------------------------------ proto

v1::Fault FaultRegistry::to_proto_locked(const Entry& entry) const { return to_proto(entry, options_.node_name); }

}  // namespace chaos::agent
