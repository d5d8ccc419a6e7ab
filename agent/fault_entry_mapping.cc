#include "agent/fault_entry_mapping.h"

#include "agent/proto_convert.h"
#include "common/utf8_text.h"

namespace chaos::agent {

v1::FaultState to_proto_state(EntryState state) {
  switch (state) {
    case EntryState::kApplying: return v1::FAULT_STATE_UNSPECIFIED;
    case EntryState::kActive:
    case EntryState::kReverting: return v1::FAULT_STATE_ACTIVE;
    case EntryState::kReverted:
    case EntryState::kFailedToApply: return v1::FAULT_STATE_REVERTED;
    case EntryState::kRevertFailed: return v1::FAULT_STATE_REVERT_FAILED;
  }
  return v1::FAULT_STATE_UNSPECIFIED;
}

v1::Fault to_proto(const FaultEntry& entry, const std::string& node_name) {
  v1::Fault fault;
  fault.set_id(entry.id);
  fault.set_kind(entry.kind);
  fault.set_experiment_id(entry.experiment_id);
  fault.set_lease_id(entry.lease_id);
  *fault.mutable_spec() = entry.spec;
  fault.set_backend(entry.backend);
  for (const auto& container : entry.containers) *fault.add_containers() = container;
  fault.set_state(to_proto_state(entry.state));
  if (entry.applied_at != WallTime{}) {
    *fault.mutable_applied_at() = to_proto_timestamp(entry.applied_at);
    *fault.mutable_expires_at() =
        to_proto_timestamp(entry.applied_at + std::chrono::duration_cast<WallTime::duration>(entry.duration));
  }
  if (entry.reverted_at != WallTime{}) *fault.mutable_reverted_at() = to_proto_timestamp(entry.reverted_at);
  fault.set_revert_reason(entry.revert_reason);
  // Detail, evidence and errors carry the node's bytes (a process's comm cut
  // mid-character, a container's resolv.conf): one that is not UTF-8 would
  // make the whole response unparseable for the orchestrator.
  fault.set_detail(valid_utf8(entry.state == EntryState::kRevertFailed
                                  ? entry.detail + " (revert failed: " + entry.last_error + ")"
                                  : entry.detail));
  fault.set_node_name(node_name);
  fault.set_effect(to_proto_effect(entry.effect));
  fault.set_evidence(valid_utf8(entry.evidence));
  if (entry.verified_at != WallTime{}) *fault.mutable_verified_at() = to_proto_timestamp(entry.verified_at);
  if (entry.effect_seen_at != WallTime{}) *fault.mutable_effect_seen_at() = to_proto_timestamp(entry.effect_seen_at);
  if (entry.gone_verified_at != WallTime{}) {
    *fault.mutable_gone_verified_at() = to_proto_timestamp(entry.gone_verified_at);
    *fault.mutable_time_to_gone() = to_proto_duration(entry.time_to_gone);
  }
  fault.set_gone_evidence(valid_utf8(entry.gone_evidence));
  if (entry.verified_at != WallTime{}) *fault.mutable_time_to_effect() = to_proto_duration(entry.time_to_effect);
  for (const auto& counter : entry.counters) (*fault.mutable_counters())[counter.name] = counter.value;
  if (entry.state == EntryState::kRevertFailed) fault.set_error(valid_utf8(entry.last_error));
  return fault;
}

v1::EffectState to_proto_effect(EffectStatus effect) {
  switch (effect) {
    case EffectStatus::kNotChecked: return v1::EFFECT_STATE_NOT_CHECKED;
    case EffectStatus::kArmed: return v1::EFFECT_STATE_ARMED;
    case EffectStatus::kVerified: return v1::EFFECT_STATE_VERIFIED;
    case EffectStatus::kUnverified: return v1::EFFECT_STATE_UNVERIFIED;
  }
  return v1::EFFECT_STATE_UNSPECIFIED;
}

v1::Fault unknown_reverted_fault(const std::string& fault_id, const std::string& node_name) {
  v1::Fault fault;
  fault.set_id(fault_id);
  fault.set_state(v1::FAULT_STATE_REVERTED);
  fault.set_node_name(node_name);
  return fault;
}

JournalEntry to_journal_entry(const FaultEntry& entry, JournalPhase phase, nlohmann::json undo,
                              WallTime recorded_at) {
  return JournalEntry{entry.id,       entry.kind, entry.experiment_id, entry.lease_id, entry.spec,
                      entry.duration, phase,      std::move(undo),     recorded_at};
}

std::shared_ptr<FaultEntry> entry_from_journal(const JournalEntry& record) {
  auto entry = std::make_shared<FaultEntry>();
  entry->id = record.fault_id;
  entry->kind = record.kind;
  entry->experiment_id = record.experiment_id;
  entry->lease_id = record.lease_id;
  entry->spec = record.spec;
  entry->duration = record.duration;
  entry->applied_at = record.recorded_at;
  return entry;
}

}  // namespace chaos::agent
