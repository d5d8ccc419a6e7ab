// A registry entry in its other two forms: the v1::Fault the API reports
// and the JournalEntry kept on disk. Pure field mapping, no decisions: what
// an entry means (its state machine, its undo path) stays in the registry
// and its recovery.
#pragma once

#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "agent/fault_entry.h"
#include "agent/fault_journal.h"
#include "chaos/v1/agent.pb.h"

namespace chaos::agent {

// Applying is UNSPECIFIED; reverting still counts as ACTIVE (it is on the
// system until the revert ends); a failed apply left nothing, so REVERTED.
v1::FaultState to_proto_state(EntryState state);

v1::EffectState to_proto_effect(EffectStatus effect);

// The caller holds the registry's lock: the entry's state fields are read.
v1::Fault to_proto(const FaultEntry& entry, const std::string& node_name);

// What Revert reports for an id the registry does not know (ended before a
// restart or past the retention window): not live, so reverted.
v1::Fault unknown_reverted_fault(const std::string& fault_id, const std::string& node_name);

// The journal record of an entry's fields that do not change after reserve.
JournalEntry to_journal_entry(const FaultEntry& entry, JournalPhase phase, nlohmann::json undo,
                              WallTime recorded_at);

// An entry holding a journal record's fields; the caller sets its state,
// undo path and reason.
std::shared_ptr<FaultEntry> entry_from_journal(const JournalEntry& record);

}  // namespace chaos::agent
