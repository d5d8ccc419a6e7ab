// The durable record of every fault this agent has touched the system for:
// one JSON file per fault in <state_dir>/journal/<fault id>.json, written
// before apply ("applying") and again with the undo record after it
// ("applied"), removed once the fault is reverted. Files are replaced
// atomically (temp file, fsync, rename, fsync of the directory), so after a
// crash every file is either the old or the new version, never half of one.
// A new agent process reverts whatever it finds here before serving.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "chaos/v1/agent.pb.h"
#include "common/clock.h"
#include "common/status.h"

namespace chaos::agent {

enum class JournalPhase { kApplying, kApplied };

struct JournalEntry {
  std::string fault_id;
  std::string kind;
  std::string experiment_id;
  std::string lease_id;
  v1::FaultSpec spec;
  Duration duration{0};
  JournalPhase phase = JournalPhase::kApplying;
  nlohmann::json undo;  // null while applying
  WallTime recorded_at{};
};

// Exposed for tests: the on-disk JSON form.
nlohmann::json journal_entry_to_json(const JournalEntry& entry);
StatusOr<JournalEntry> journal_entry_from_json(const nlohmann::json& json);

class FaultJournal {
 public:
  explicit FaultJournal(std::string state_dir);
  virtual ~FaultJournal() = default;

  // Creates <state_dir>/journal if needed.
  virtual Status open();
  virtual Status write(const JournalEntry& entry);
  // Removing an entry that is not there succeeds.
  virtual Status remove(const std::string& fault_id);

  struct Contents {
    std::vector<JournalEntry> entries;
    // Unreadable files, one message each; they are renamed to *.corrupt so
    // they are reported once and kept for people to look at.
    std::vector<std::string> errors;
  };
  virtual Contents load_all();

  const std::string& directory() const { return directory_; }

 private:
  std::string directory_;
};

}  // namespace chaos::agent
