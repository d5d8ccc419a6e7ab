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

// What the registry needs of the journal; FileFaultJournal below is the
// real one, tests fake it to make each step fail.
class FaultJournal {
 public:
  virtual ~FaultJournal() = default;

  virtual Status write(const JournalEntry& entry) = 0;
  // Removing an entry that is not there succeeds.
  virtual Status remove(const std::string& fault_id) = 0;

  // An unreadable entry. It is set aside (kept for people to look at) and
  // listed again at every load until remove_corrupt(): its name still tells
  // which fault it was, and kinds that name their kernel objects after the
  // fault id can revert it from that alone.
  struct CorruptEntry {
    std::string fault_id;  // from the file name; empty when it is not a valid id
    std::string path;      // the set-aside file
    std::string error;
  };
  struct Contents {
    std::vector<JournalEntry> entries;
    std::vector<CorruptEntry> corrupt;
  };
  // An error when the journal cannot be listed: then nothing is known about
  // what a previous process left behind. One unreadable entry is not an
  // error; it is listed as corrupt.
  virtual StatusOr<Contents> load_all() = 0;
  virtual Status remove_corrupt(const std::string& path) = 0;
};

// <state_dir>/journal/<fault id>.json; a corrupt entry is renamed to
// <id>.json.corrupt.
class FileFaultJournal final : public FaultJournal {
 public:
  explicit FileFaultJournal(std::string state_dir);

  // Creates <state_dir>/journal if needed.
  Status open();
  Status write(const JournalEntry& entry) override;
  Status remove(const std::string& fault_id) override;
  StatusOr<Contents> load_all() override;
  Status remove_corrupt(const std::string& path) override;

  const std::string& directory() const { return directory_; }

 private:
  std::string directory_;
};

}  // namespace chaos::agent
