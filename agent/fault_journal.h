// The durable record of every fault this agent has touched the system for:
// written before apply ("applying") and again with the undo record after it
// ("applied"), gone once the fault is reverted. A new agent process reverts
// whatever it finds here before serving.
//
// On disk (FileFaultJournal): one slot file per live fault,
// <state_dir>/journal/<fault id>.fj, holding framed binary records
// (agent/journal_record.h). Slot files are reused, so an inject neither
// creates a file nor changes a directory durably: each record is one
// pwrite into a file whose name and blocks are on disk already, and one
// fdatasync when the fault's effect outlives the kernel (JournalFlush). A
// freed slot is zeroed and moved to <state_dir>/journal-spare/; the next
// fault takes it back. Why, and what a crash or power loss can leave:
// agent/README.md, "Journal".
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "chaos/v1/agent.pb.h"
#include "common/clock.h"
#include "common/status.h"

namespace chaos::agent {

enum class JournalPhase { kApplying, kApplied };

// How far a record is made durable before write() returns. The page cache
// survives the agent being killed or crashing; only a kernel crash or power
// loss loses it, and that also ends every fault whose effect lives in the
// kernel or in processes (FaultKind::effect_survives_reboot).
enum class JournalFlush {
  kToDisk,         // pwrite + fdatasync: survives a power loss
  kPageCacheOnly,  // pwrite: survives the agent, not the machine
};

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

// The JSON form of journals before slot files (<fault id>.json), still read
// so that a new agent recovers what an older one left. Exposed for tests.
nlohmann::json journal_entry_to_json(const JournalEntry& entry);
StatusOr<JournalEntry> journal_entry_from_json(const nlohmann::json& json);

// What the registry needs of the journal; FileFaultJournal below is the
// real one, tests fake it to make each step fail.
class FaultJournal {
 public:
  virtual ~FaultJournal() = default;

  virtual Status write(const JournalEntry& entry, JournalFlush flush) = 0;
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
    // What was skipped without losing an entry (a record cut short after
    // the last complete one); also printed as warnings.
    std::vector<std::string> warnings;
  };
  // An error when the journal cannot be listed: then nothing is known about
  // what a previous process left behind. One unreadable entry is not an
  // error; it is listed as corrupt.
  virtual StatusOr<Contents> load_all() = 0;
  virtual Status remove_corrupt(const std::string& path) = 0;
};

// <state_dir>/journal/<fault id>.fj (and <fault id>.json of older agents); a
// corrupt entry is renamed to <name>.corrupt. Thread-safe: faults write and
// remove their own entries concurrently; the lock only guards which slot
// belongs to whom, never a write or an fdatasync.
class FileFaultJournal final : public FaultJournal {
 public:
  explicit FileFaultJournal(std::string state_dir);
  ~FileFaultJournal() override;

  // Creates <state_dir>/journal if needed.
  Status open();
  Status write(const JournalEntry& entry, JournalFlush flush) override;
  Status remove(const std::string& fault_id) override;
  StatusOr<Contents> load_all() override;
  Status remove_corrupt(const std::string& path) override;

  const std::string& directory() const { return directory_; }
  // fdatasyncs of records so far (kToDisk writes), for tests and benches.
  std::uint64_t record_syncs() const { return record_syncs_.load(std::memory_order_relaxed); }

  struct Slot;

 private:
  StatusOr<std::shared_ptr<Slot>> take_slot(const std::string& fault_id);
  StatusOr<std::shared_ptr<Slot>> new_spare_slot();
  Status free_slot(const std::shared_ptr<Slot>& slot);
  std::string spare_path(long number) const;

  std::string directory_;
  std::string spare_directory_;
  std::mutex mutex_;  // the maps below only
  std::map<std::string, std::shared_ptr<Slot>> live_;  // by fault id
  std::vector<std::shared_ptr<Slot>> spare_;
  long next_spare_number_ = 0;
  std::atomic<std::uint64_t> record_syncs_{0};
};

}  // namespace chaos::agent
