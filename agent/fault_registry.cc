#include "agent/fault_registry.h"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cstdio>
#include <iostream>
#include <random>
#include <set>

#include "agent/proto_convert.h"
#include "proto/fault_kinds.h"

namespace chaos::agent {

enum class EntryState { kApplying, kActive, kReverting, kReverted, kRevertFailed };

struct FaultRegistry::Entry {
  std::string id;
  std::string kind;
  std::string experiment_id;
  std::string lease_id;
  std::string request_id;
  v1::FaultSpec spec;
  Duration duration{0};
  EntryState state = EntryState::kApplying;
  SteadyTime expires_at{};
  WallTime applied_at{};
  WallTime reverted_at{};
  std::string backend;
  std::string detail;
  std::string revert_reason;
  std::string pending_revert;  // asked for while still applying
  std::string last_error;
  SteadyTime next_retry{};
  std::unique_ptr<LiveFault> live;
  std::mutex op_mutex;                   // live->on_tick() against live->revert()
  std::atomic<bool> stop_ticking{false};
  std::string last_tick_error;           // guarded by op_mutex
};

namespace {

std::string result_label(const Status& status) {
  if (status.ok()) return "ok";
  std::string name = status_code_name(status.code());
  std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
  return name;
}

v1::FaultState proto_state(EntryState state) {
  switch (state) {
    case EntryState::kApplying: return v1::FAULT_STATE_UNSPECIFIED;
    case EntryState::kActive:
    case EntryState::kReverting: return v1::FAULT_STATE_ACTIVE;
    case EntryState::kReverted: return v1::FAULT_STATE_REVERTED;
    case EntryState::kRevertFailed: return v1::FAULT_STATE_REVERT_FAILED;
  }
  return v1::FAULT_STATE_UNSPECIFIED;
}

Status validate_command(const InjectCommand& command, const std::string& kind_name) {
  if (kind_name.empty()) return invalid_argument("spec: no fault kind set");
  if (command.duration.count() <= 0) return invalid_argument("duration: required and must be positive");
  if (command.lease_ttl.count() < 0) return invalid_argument("lease_ttl: must not be negative");
  if (command.lease_id.empty() && command.lease_ttl.count() > 0) {
    return invalid_argument("lease_ttl: set without lease_id");
  }
  return {};
}

}  // namespace

FaultRegistry::FaultRegistry(Clock& clock, FaultJournal& journal, AgentMetrics& metrics,
                             FaultRegistryOptions options)
    : clock_(clock), journal_(journal), metrics_(metrics), options_(std::move(options)) {}

FaultRegistry::~FaultRegistry() = default;

void FaultRegistry::add_kind(std::unique_ptr<FaultKind> kind) {
  const std::string name = kind->name();
  assert(fault_kind_from_name(name) != v1::FaultSpec::KIND_NOT_SET && "fault kind not in proto/fault_kinds");
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

// ------------------------------------------------------------------ inject

StatusOr<v1::Fault> FaultRegistry::inject(const InjectCommand& command) {
  const auto started = std::chrono::steady_clock::now();  // real latency, not fake time
  const std::string kind_name = fault_kind_name(command.spec);
  StatusOr<v1::Fault> result = [&]() -> StatusOr<v1::Fault> {
    CHAOS_RETURN_IF_ERROR(validate_command(command, kind_name));
    FaultKind* kind = find_kind(kind_name);
    if (kind == nullptr) return unimplemented("spec: fault kind '" + kind_name + "' is not available on this agent");
    CHAOS_RETURN_IF_ERROR(kind->validate(command.spec));
    CHAOS_RETURN_IF_ERROR(check_policy(options_.policy, kind_name, command.spec, command.duration));
    return inject_new(command, *kind);
  }();
  const std::chrono::duration<double> seconds = std::chrono::steady_clock::now() - started;
  metrics_.injection(kind_name.empty() ? "none" : kind_name, result_label(result.status()), seconds.count());
  return result;
}

StatusOr<v1::Fault> FaultRegistry::inject_new(const InjectCommand& command, FaultKind& kind) {
  std::unique_lock lock(mutex_);
  CHAOS_ASSIGN_OR_RETURN(EntryPtr entry, reserve(command, kind.name(), lock));
  if (entry->state != EntryState::kApplying) return to_proto_locked(*entry);  // idempotent repeat
  lock.unlock();
  StatusOr<std::unique_ptr<LiveFault>> live = apply_reserved(entry, kind);
  lock.lock();
  if (!live.ok()) {
    abandon(entry);
    return live.status();
  }
  entry->live = std::move(*live);
  entry->backend = entry->live->backend();
  entry->detail = entry->live->detail();
  entry->applied_at = clock_.wall_now();
  entry->expires_at = clock_.steady_now() + entry->duration;
  entry->state = EntryState::kActive;
  metrics_.fault_started({entry->experiment_id, entry->kind, entry->id, entry->backend});
  changed_.notify_all();
  const std::string pending = entry->pending_revert;
  if (!pending.empty() && begin_revert_locked(entry, pending)) {
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
  const SteadyTime now = clock_.steady_now();
  if (!command.lease_id.empty()) {
    const auto lease = leases_.find(command.lease_id);
    if (lease && lease->expires_at <= now) {
      return failed_precondition("lease_id: lease '" + command.lease_id +
                                 "' has expired and its faults are being reverted; use a new lease");
    }
    if (!lease && command.lease_ttl.count() <= 0) {
      return invalid_argument("lease_ttl: required (> 0) to create lease '" + command.lease_id + "'");
    }
    leases_.create_or_extend(command.lease_id, command.lease_ttl, now);
  }
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

// Journal first, then apply, then journal the undo record; any failure
// leaves neither the fault nor its journal entry behind. Runs under
// mutation_mutex_, without the registry lock (the entry's fields read here
// do not change after reserve()).
StatusOr<std::unique_ptr<LiveFault>> FaultRegistry::apply_reserved(const EntryPtr& entry, FaultKind& kind) {
  std::lock_guard mutation(mutation_mutex_);
  JournalEntry record{entry->id, entry->kind, entry->experiment_id, entry->lease_id, entry->spec,
                      entry->duration, JournalPhase::kApplying, nullptr, clock_.wall_now()};
  CHAOS_RETURN_IF_ERROR(journal_.write(record));
  const FaultContext context{entry->id, entry->experiment_id, entry->duration};
  StatusOr<std::unique_ptr<LiveFault>> live = internal_error("apply did not run");
  try {
    live = kind.apply(entry->spec, context);
  } catch (const std::exception& error) {
    // A throwing kind broke its all-or-nothing promise: clean up like a crash.
    live = internal_error(std::string("apply threw: ") + error.what());
    (void)kind.recover(entry->spec, context, nullptr);
  }
  if (!live.ok()) {
    if (Status removed = journal_.remove(entry->id); !removed.ok()) log(removed.message());
    return live.status();
  }
  record.phase = JournalPhase::kApplied;
  record.undo = (*live)->undo_record();
  if (Status written = journal_.write(record); !written.ok()) {
    if (Status reverted = (*live)->revert(); !reverted.ok()) log("fault " + entry->id + ": " + reverted.message());
    (void)journal_.remove(entry->id);
    return written;
  }
  return live;
}

void FaultRegistry::abandon(const EntryPtr& entry) {
  faults_.erase(entry->id);
  auto request = request_ids_.find(entry->request_id);
  if (request != request_ids_.end() && request->second == entry->id) request_ids_.erase(request);
  changed_.notify_all();
}

// ------------------------------------------------------------------ revert

bool FaultRegistry::begin_revert_locked(const EntryPtr& entry, const std::string& reason) {
  switch (entry->state) {
    case EntryState::kApplying:
      if (entry->pending_revert.empty()) entry->pending_revert = reason;
      return false;
    case EntryState::kActive:
      entry->revert_reason = reason;
      [[fallthrough]];
    case EntryState::kRevertFailed:  // a retry keeps the first reason
      entry->state = EntryState::kReverting;
      entry->stop_ticking = true;
      return true;
    case EntryState::kReverting:
    case EntryState::kReverted:
      return false;
  }
  return false;
}

void FaultRegistry::finish_revert(const EntryPtr& entry) {
  Status status;
  {
    std::lock_guard mutation(mutation_mutex_);
    std::lock_guard op(entry->op_mutex);
    try {
      status = entry->live->revert();
    } catch (const std::exception& error) {
      status = internal_error(std::string("revert threw: ") + error.what());
    }
    if (status.ok()) {
      // A journal entry left behind is only reverted again at the next
      // start-up, which is idempotent: log it, the fault itself is gone.
      if (Status removed = journal_.remove(entry->id); !removed.ok()) log(removed.message());
      entry->live.reset();
    }
  }
  std::lock_guard lock(mutex_);
  metrics_.revert(entry->kind, entry->revert_reason, status.ok() ? "ok" : "error");
  if (status.ok()) {
    entry->state = EntryState::kReverted;
    entry->reverted_at = clock_.wall_now();
    metrics_.fault_ended({entry->experiment_id, entry->kind, entry->id, entry->backend});
    retire_locked(entry);
  } else {
    entry->state = EntryState::kRevertFailed;
    entry->last_error = status.message();
    entry->next_retry = clock_.steady_now() + options_.revert_retry_interval;
    log("fault " + entry->id + " (" + entry->kind + "): revert failed, will retry: " + status.message());
  }
  changed_.notify_all();
}

void FaultRegistry::retire_locked(const EntryPtr& entry) {
  faults_.erase(entry->id);
  ended_.push_back(entry);
  while (ended_.size() > options_.ended_retention) {
    const EntryPtr& oldest = ended_.front();
    auto request = request_ids_.find(oldest->request_id);
    if (request != request_ids_.end() && request->second == oldest->id) request_ids_.erase(request);
    ended_.pop_front();
  }
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
      v1::Fault unknown;
      unknown.set_id(fault_id);
      unknown.set_state(v1::FAULT_STATE_REVERTED);
      unknown.set_node_name(options_.node_name);
      return RevertOutcome{unknown, true};
    }
    EntryPtr entry = found->second;
    if (entry->state == EntryState::kApplying || entry->state == EntryState::kReverting) {
      changed_.wait(lock);  // let the apply or the other revert finish, then look again
      continue;
    }
    begin_revert_locked(entry, "request");
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
  std::vector<EntryPtr> reverting;
  {
    std::lock_guard lock(mutex_);
    for (const auto& [id, entry] : faults_) {
      if (!experiment_id.empty() && entry->experiment_id != experiment_id) continue;
      if (begin_revert_locked(entry, shutting_down_ ? "shutdown" : "request")) reverting.push_back(entry);
    }
  }
  for (const auto& entry : reverting) finish_revert(entry);
  std::lock_guard lock(mutex_);
  std::vector<v1::Fault> faults;
  for (const auto& entry : reverting) faults.push_back(to_proto_locked(*entry));
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
  std::lock_guard lock(mutex_);
  const SteadyTime now = clock_.steady_now();
  const auto lease = leases_.renew(lease_id, ttl, now);
  if (!lease) {
    return not_found("lease_id: lease '" + lease_id + "' is unknown or expired (its faults were reverted)");
  }
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

v1::Fault FaultRegistry::to_proto_locked(const Entry& entry) const {
  v1::Fault fault;
  fault.set_id(entry.id);
  fault.set_kind(entry.kind);
  fault.set_experiment_id(entry.experiment_id);
  fault.set_lease_id(entry.lease_id);
  *fault.mutable_spec() = entry.spec;
  fault.set_backend(entry.backend);
  fault.set_state(proto_state(entry.state));
  if (entry.applied_at != WallTime{}) {
    *fault.mutable_applied_at() = to_proto_timestamp(entry.applied_at);
    *fault.mutable_expires_at() =
        to_proto_timestamp(entry.applied_at + std::chrono::duration_cast<WallTime::duration>(entry.duration));
  }
  if (entry.reverted_at != WallTime{}) *fault.mutable_reverted_at() = to_proto_timestamp(entry.reverted_at);
  fault.set_revert_reason(entry.revert_reason);
  fault.set_detail(entry.state == EntryState::kRevertFailed ? entry.detail + " (revert failed: " + entry.last_error + ")"
                                                              : entry.detail);
  fault.set_node_name(options_.node_name);
  return fault;
}

// ------------------------------------------------------------------ time

void FaultRegistry::tick() {
  const SteadyTime now = clock_.steady_now();
  std::vector<EntryPtr> due;
  std::vector<EntryPtr> ticking;
  {
    std::lock_guard lock(mutex_);
    due = collect_due_locked(now);
    for (const auto& [id, entry] : faults_) {
      if (entry->state == EntryState::kActive) ticking.push_back(entry);
    }
  }
  for (const auto& entry : due) finish_revert(entry);
  run_on_tick(ticking, now);
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
      log("lease " + entry->lease_id + " expired: reverting fault " + entry->id);
    }
    if (begin_revert_locked(entry, reason)) due.push_back(entry);
  }
  return due;
}

void FaultRegistry::run_on_tick(const std::vector<EntryPtr>& entries, SteadyTime now) {
  for (const auto& entry : entries) {
    std::lock_guard op(entry->op_mutex);
    if (entry->stop_ticking || !entry->live) continue;
    Status status;
    try {
      status = entry->live->on_tick(now);
    } catch (const std::exception& error) {
      status = internal_error(std::string("on_tick threw: ") + error.what());
    }
    // Log a repeating failure once, not ten times a second.
    const std::string message = status.ok() ? "" : status.message();
    if (!message.empty() && message != entry->last_tick_error) log("fault " + entry->id + ": " + message);
    entry->last_tick_error = message;
  }
}

// ------------------------------------------------------------------ recovery

int FaultRegistry::recover_from_journal() {
  auto contents = journal_.load_all();
  for (const auto& error : contents.errors) log("journal: unreadable entry kept as *.corrupt: " + error);
  int recovered = 0;
  for (const auto& record : contents.entries) {
    FaultKind* kind = find_kind(record.kind);
    if (kind == nullptr) {
      log("journal: fault " + record.fault_id + " of kind '" + record.kind +
          "' left by a previous run, but this agent has no such kind; entry kept");
      continue;
    }
    const FaultContext context{record.fault_id, record.experiment_id, record.duration};
    const nlohmann::json undo = record.phase == JournalPhase::kApplied ? record.undo : nlohmann::json();
    Status status;
    {
      std::lock_guard mutation(mutation_mutex_);
      try {
        status = kind->recover(record.spec, context, undo);
      } catch (const std::exception& error) {
        status = internal_error(std::string("recover threw: ") + error.what());
      }
    }
    metrics_.journal_recovered(record.kind, status.ok());
    auto entry = std::make_shared<Entry>();
    entry->id = record.fault_id;
    entry->kind = record.kind;
    entry->experiment_id = record.experiment_id;
    entry->lease_id = record.lease_id;
    entry->spec = record.spec;
    entry->duration = record.duration;
    entry->applied_at = record.recorded_at;
    entry->reverted_at = clock_.wall_now();
    entry->revert_reason = "recovery";
    entry->detail = "left by a previous agent process";
    if (status.ok()) {
      if (Status removed = journal_.remove(record.fault_id); !removed.ok()) log(removed.message());
      entry->state = EntryState::kReverted;
      ++recovered;
      log("journal: reverted fault " + record.fault_id + " (" + record.kind + ") left by a previous run");
    } else {
      entry->state = EntryState::kRevertFailed;
      entry->last_error = status.message();
      log("journal: could not revert fault " + record.fault_id + " (" + record.kind + "): " + status.message() +
          "; entry kept for the next start");
    }
    std::lock_guard lock(mutex_);
    retire_locked(entry);
  }
  return recovered;
}

}  // namespace chaos::agent
