// Start-up recovery: what a previous agent process left in the journal is
// reverted before any request is served. A recovery that fails is not
// forgotten: it stays in the registry as REVERT_FAILED (visible in List,
// metrics and `chaosctl agents`) and tick() retries it every
// revert_retry_interval, like any other failed revert.
#include "agent/fault_entry.h"
#include "agent/fault_entry_mapping.h"
#include "agent/fault_registry.h"

namespace chaos::agent {

FaultRegistry::EntryPtr FaultRegistry::recovered_entry(const JournalEntry& record) const {
  EntryPtr entry = entry_from_journal(record);
  entry->undo_path = UndoPath::kRecover;
  entry->undo_record = record.phase == JournalPhase::kApplied ? record.undo : nlohmann::json();
  entry->revert_reason = "recovery";
  entry->detail = "left by a previous agent process";
  entry->state = EntryState::kReverting;
  return entry;
}

// Reverts `entry` (already in kReverting) on this thread; on failure it
// stays live as REVERT_FAILED and is retried by tick().
void FaultRegistry::recover_entry(const EntryPtr& entry, const std::string& what) {
  {
    std::lock_guard lock(mutex_);
    entry->revert_requested_at = std::chrono::steady_clock::now();  // its time to gone starts here
    faults_[entry->id] = entry;
  }
  finish_revert(entry);
  std::lock_guard lock(mutex_);
  if (entry->state == EntryState::kReverted) {
    metrics_.journal_recovered();
    log("journal: reverted " + what + " " + entry->id + " (" + entry->kind + ") left by a previous run");
  } else {
    log("journal: could not revert " + what + " " + entry->id + " (" + entry->kind + "): " + entry->last_error +
        "; it stays REVERT_FAILED and is retried every " +
        std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(options_.revert_retry_interval).count()) +
        " ms");
  }
}

StatusOr<int> FaultRegistry::recover_from_journal() {
  CHAOS_ASSIGN_OR_RETURN(FaultJournal::Contents contents, journal_.load_all());
  int recovered = recover_corrupt(contents.corrupt);
  for (const auto& record : contents.entries) {
    EntryPtr entry = recovered_entry(record);
    recover_entry(entry, "fault");
    if (entry->state == EntryState::kReverted) ++recovered;
  }
  return recovered;
}

Status FaultRegistry::undo_recovered(const Entry& entry) {
  FaultKind* kind = find_kind(entry.kind);
  if (kind == nullptr) return unimplemented("this agent offers no fault kind '" + entry.kind + "'");
  const FaultContext context{entry.id, entry.experiment_id, entry.duration, nullptr, &entry.spec};
  return kind->recover(entry.spec, context, entry.undo_record);
}

// Every kind that can undo a fault from its id alone is asked to; none
// finding anything is success (recover_by_id is idempotent).
Status FaultRegistry::undo_by_id(const Entry& entry) {
  const FaultContext context{entry.id, "", Duration{0}};
  int able = 0;
  std::string errors;
  for (const auto& [name, kind] : kinds_) {
    const Status status = kind->recover_by_id(context);
    if (status.code() == StatusCode::kUnimplemented) continue;
    ++able;
    if (!status.ok()) errors += (errors.empty() ? "" : "; ") + name + ": " + status.message();
  }
  if (able == 0) return unimplemented("no fault kind on this agent can revert a fault from its id alone");
  if (!errors.empty()) return internal_error(errors);
  return {};
}

void FaultRegistry::keep_corrupt(const FaultJournal::CorruptEntry& item, const std::string& why) {
  metrics_.journal_corrupt("kept");
  log("journal: CORRUPT entry " + item.path + " kept: " + why +
      "; check the node by hand, then delete the file (agent/README.md, \"Corrupt journal entries\")");
}

int FaultRegistry::recover_corrupt(const std::vector<FaultJournal::CorruptEntry>& corrupt) {
  int recovered = 0;
  for (const auto& item : corrupt) {
    log("journal: CORRUPT entry " + item.path + ": " + item.error);
    if (item.fault_id.empty()) {
      keep_corrupt(item, "its file name is not a fault id");
      continue;
    }
    auto entry = std::make_shared<Entry>();
    entry->id = item.fault_id;
    entry->kind = "unknown";
    entry->undo_path = UndoPath::kRecoverById;
    entry->corrupt_path = item.path;
    entry->revert_reason = "recovery";
    entry->detail = "corrupt journal entry " + item.path + " (" + item.error + ")";
    entry->state = EntryState::kReverting;
    recover_entry(entry, "corrupt journal entry of fault");
    if (entry->state == EntryState::kRevertFailed && entry->last_error_code == StatusCode::kUnimplemented) {
      // Nothing here can act on it: retrying every second would change
      // nothing, and listing it would make every RevertAll fail for good.
      {
        std::lock_guard lock(mutex_);
        faults_.erase(entry->id);
        update_state_metrics_locked();
      }
      keep_corrupt(item, entry->last_error);
      continue;
    }
    const bool reverted = entry->state == EntryState::kReverted;
    metrics_.journal_corrupt(reverted ? "reverted" : "retrying");
    if (reverted) ++recovered;
  }
  return recovered;
}

}  // namespace chaos::agent
