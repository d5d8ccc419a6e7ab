// The registry's record of one fault (internal to the registry and its
// recovery and mapping modules).
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "agent/fault.h"

namespace chaos::agent {

enum class EntryState {
  kApplying,
  kActive,
  kReverting,
  kReverted,
  kRevertFailed,
  kFailedToApply,  // apply failed: nothing of it is on the system
};

// What the effect checks found (v1::EffectState).
enum class EffectStatus {
  kNotChecked,  // verify off
  kArmed,       // read back in place, nothing in scope impaired yet
  kVerified,    // in place and seen acting
  kUnverified,  // best-effort: the check failed, the fault stayed
};

// How a revert undoes the fault.
enum class UndoPath {
  kLive,        // LiveFault::revert() of a fault this process applied
  kRecover,     // FaultKind::recover() from a journal entry of a previous process
  kRecoverById  // FaultKind::recover_by_id() of every kind: the entry was corrupt
};

// Fields below op_mutex are touched only by whoever holds op_mutex (apply,
// revert, on_tick of this one fault); every other field is guarded by the
// registry's mutex_.
struct FaultEntry {
  std::string id;
  std::string kind;
  std::string experiment_id;
  std::string lease_id;
  std::string request_id;
  v1::FaultSpec spec;
  Duration duration{0};
  EntryState state = EntryState::kApplying;
  UndoPath undo_path = UndoPath::kLive;
  SteadyTime expires_at{};
  WallTime applied_at{};
  WallTime reverted_at{};
  std::string backend;
  std::vector<v1::ContainerRef> containers;  // FaultSpec.target as resolved at apply
  std::string detail;
  std::string revert_reason;
  std::string pending_revert;  // asked for while still applying
  std::string last_error;
  StatusCode last_error_code = StatusCode::kOk;
  SteadyTime next_retry{};
  int finished_reverts = 0;    // attempts that ended, either way
  bool tick_in_flight = false;
  nlohmann::json undo_record;  // kRecover: what the journal held
  std::string corrupt_path;    // kRecoverById: the journal file kept for people

  // Proof of effect. Latencies are real time (steady_clock), whatever the
  // injected clock says: they measure the system, not the schedule.
  VerifyMode verify = VerifyMode::kRequired;
  EffectStatus effect = EffectStatus::kNotChecked;
  std::string evidence;
  std::string gone_evidence;
  WallTime verified_at{};
  WallTime effect_seen_at{};
  WallTime gone_verified_at{};
  Duration time_to_effect{0};
  Duration time_to_gone{0};
  std::chrono::steady_clock::time_point received_at{};
  std::chrono::steady_clock::time_point revert_requested_at{};
  std::vector<FaultCounter> counters;  // the last observe()
  SteadyTime next_observe{};
  // The next on_tick: every tick_interval, not on every wake of the
  // watchdog (an inject, a lease renewal).
  SteadyTime next_tick{};

  std::mutex op_mutex;
  std::unique_ptr<LiveFault> live;       // guarded by op_mutex
  std::atomic<bool> stop_ticking{false};
  std::string last_tick_error;           // guarded by op_mutex
};

}  // namespace chaos::agent
