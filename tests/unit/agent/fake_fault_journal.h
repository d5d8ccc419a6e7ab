// A FaultJournal in memory whose write, remove and listing fail on demand,
// so the registry's handling of each journal failure is tested.
#pragma once

#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "agent/fault_journal.h"

namespace chaos::agent::testing {

class FakeFaultJournal final : public FaultJournal {
 public:
  Status write(const JournalEntry& entry, JournalFlush flush) override {
    std::lock_guard lock(mutex_);
    ++writes_;
    if (!write_error_.ok() && writes_ >= fail_from_write_) return write_error_;
    entries_[entry.fault_id] = entry;
    (void)flush;  // the real journal's syncs are tested (fault_registry_test)
    return {};
  }
  Status remove(const std::string& fault_id) override {
    std::lock_guard lock(mutex_);
    if (!remove_error_.ok()) return remove_error_;
    entries_.erase(fault_id);
    return {};
  }
  StatusOr<Contents> load_all() override {
    std::lock_guard lock(mutex_);
    if (!list_error_.ok()) return list_error_;
    Contents contents;
    for (const auto& [id, entry] : entries_) contents.entries.push_back(entry);
    return contents;
  }
  Status remove_corrupt(const std::string&) override { return {}; }

  // Write number `from` (1 = the next) and every later one fail.
  void fail_writes(Status error, int from = 1) {
    std::lock_guard lock(mutex_);
    write_error_ = std::move(error);
    fail_from_write_ = writes_ + from;
  }
  void fail_removes(Status error) {
    std::lock_guard lock(mutex_);
    remove_error_ = std::move(error);
  }
  void fail_listing(Status error) {
    std::lock_guard lock(mutex_);
    list_error_ = std::move(error);
  }
  void heal() {
    std::lock_guard lock(mutex_);
    write_error_ = remove_error_ = list_error_ = Status{};
  }
  std::map<std::string, JournalEntry> entries() {
    std::lock_guard lock(mutex_);
    return entries_;
  }

 private:
  std::mutex mutex_;
  std::map<std::string, JournalEntry> entries_;
  int writes_ = 0;
  int fail_from_write_ = 1;
  Status write_error_;
  Status remove_error_;
  Status list_error_;
};

}  // namespace chaos::agent::testing
