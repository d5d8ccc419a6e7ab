// The FaultRegistry's proof of effect: the live check after apply (as the
// inject's verify mode asks), the gone check after revert, what observe()
// reports while a fault lives, and the leftover check of an experiment.
// Part of the registry (agent/fault_registry.h), kept apart like its
// recovery (fault_recovery.cc).
#include <chrono>

#include "agent/fault_entry.h"
#include "agent/fault_registry.h"
#include "agent/leftover_tracker.h"

namespace chaos::agent {

// Holds only this fault's op_mutex (the fault is still applying: nobody else
// touches its LiveFault); the proof fields are written under the registry
// lock.
Status FaultRegistry::verify_applied(Entry& entry, LiveFault& live) {
  if (entry.verify == VerifyMode::kOff) {
    std::lock_guard lock(mutex_);
    entry.effect = EffectStatus::kNotChecked;
    return {};
  }
  StatusOr<FaultEffect> effect = internal_error("verify_live did not run");
  {
    std::lock_guard op(entry.op_mutex);
    try {
      effect = live.verify_live();
    } catch (const std::exception& error) {
      effect = internal_error(std::string("verify_live threw: ") + error.what());
    }
  }
  std::lock_guard lock(mutex_);
  if (!effect.ok()) {
    metrics_.effect_check(entry.kind, "live", "failed");
    const Status failure = failed_precondition("effect check: " + effect.status().message());
    if (entry.verify == VerifyMode::kRequired) return failure;
    entry.effect = EffectStatus::kUnverified;
    entry.evidence = "not verified: " + effect.status().message();
    return {};
  }
  const auto checked = std::chrono::steady_clock::now();
  entry.effect = effect->impaired ? EffectStatus::kVerified : EffectStatus::kArmed;
  entry.evidence = effect->evidence;
  entry.counters = effect->counters;
  entry.verified_at = clock_.wall_now();
  if (effect->impaired) entry.effect_seen_at = entry.verified_at;
  entry.time_to_effect = std::chrono::duration_cast<Duration>(checked - entry.received_at);
  metrics_.effect_check(entry.kind, "live", effect->impaired ? "verified" : "armed");
  metrics_.time_to_effect(entry.kind, std::chrono::duration<double>(entry.time_to_effect).count());
  return {};
}

// The fault is live but did not take effect: it must not stay as if it
// had. Reverted like a fault whose undo record could not be journaled.
Status FaultRegistry::revert_unverified(const EntryPtr& entry, const Status& check,
                                        std::unique_lock<std::mutex>& lock) {
  entry->evidence = check.message();
  if (!undo_just_activated(entry, "not_in_effect", lock)) {
    return Status(StatusCode::kFailedPrecondition,
                  check.message() + "; undoing fault " + entry->id + " failed too (" + entry->last_error +
                      "), the agent keeps retrying");
  }
  return Status(StatusCode::kFailedPrecondition, check.message() + "; fault " + entry->id + " was undone");
}

// The caller holds the entry's op_mutex.
StatusOr<std::string> FaultRegistry::verify_undone(Entry& entry) {
  try {
    switch (entry.undo_path) {
      case UndoPath::kLive:
        return entry.live->verify_gone();
      case UndoPath::kRecover:
      case UndoPath::kRecoverById: {
        FaultKind* kind = find_kind(entry.kind);
        if (kind == nullptr) return std::string("not checked: kind not offered by this agent");
        const FaultContext context{entry.id, entry.experiment_id, entry.duration, nullptr, &entry.spec};
        return kind->verify_recovered(context, entry.undo_path == UndoPath::kRecover ? entry.undo_record
                                                                                    : nlohmann::json());
      }
    }
  } catch (const std::exception& error) {
    return internal_error(std::string("gone check threw: ") + error.what());
  }
  return internal_error("unknown undo path");
}

void FaultRegistry::prepare_leftover_check(const std::string& experiment_id) {
  if (options_.leftovers == nullptr || experiment_id.empty()) return;
  options_.leftovers->before_fault(experiment_id, "");
}

std::optional<v1::LeftoverReport> FaultRegistry::check_leftovers(const std::string& experiment_id) {
  if (options_.leftovers == nullptr || experiment_id.empty()) return std::nullopt;
  std::vector<std::string> other_live;
  {
    std::lock_guard lock(mutex_);
    std::size_t live = 0;
    for (const auto& [id, entry] : faults_) {
      if (entry->experiment_id == experiment_id) ++live;
      else other_live.push_back(id);
    }
    if (live > 0) {
      v1::LeftoverReport report;
      report.add_errors("not compared: " + std::to_string(live) +
                        " fault(s) of the experiment are still live or reverting on this agent");
      return report;
    }
  }
  return options_.leftovers->compare(experiment_id, other_live);
}

// The first impairment seen turns an armed fault into a verified one; the
// counters are what List and /metrics show.
void FaultRegistry::record_observation_locked(Entry& entry, const FaultEffect& effect) {
  entry.counters = effect.counters;
  metrics_.fault_counters({entry.experiment_id, entry.kind, entry.id, entry.backend}, effect.counters);
  if (!effect.impaired || entry.effect != EffectStatus::kArmed) return;
  entry.effect = EffectStatus::kVerified;
  entry.effect_seen_at = clock_.wall_now();
  if (!effect.evidence.empty()) entry.evidence = effect.evidence;
}

}  // namespace chaos::agent
