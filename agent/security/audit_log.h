// The audit trail: every Inject, Revert and RevertAll (halt), and every
// refused request (bad token, invalid input, policy), as one JSON line with
// time, caller identity, peer, request summary and result. The sink is a
// narrow interface so the service is unit-tested with an in-memory fake.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "common/status.h"

namespace chaos::agent {

struct AuditRecord {
  std::chrono::system_clock::time_point time;
  std::string caller;   // certificate subject, or "plaintext" / "unauthenticated"
  std::string peer;     // "ipv4:127.0.0.1:53122"
  std::string rpc;      // "Inject"
  nlohmann::json request;  // bounded summary of the request
  std::string result;   // "ok" or the lower-case gRPC code ("unauthenticated")
  std::string message;  // the error message, or the fault id on success
};

// One JSON object without newlines; strings are cut to a bounded length and
// invalid UTF-8 replaced, so a hostile request cannot forge or bloat lines.
std::string audit_line(const AuditRecord& record);

class AuditSink {
 public:
  virtual ~AuditSink() = default;
  // false: the record is not (wholly) in the log, e.g. the disk is full.
  virtual bool record(const AuditRecord& record) = 0;
};

// Appends to a file (created 0600). Each record is written (one write(),
// in the kernel's page cache) before record() returns, so it survives the
// agent being killed right after answering. Flushing to the disk is a
// bounded group commit: one fdatasync at most `sync_delay` after the first
// unflushed record covers every record written until then, so a power
// loss or kernel crash loses at most the last `sync_delay` of records. The
// fdatasync runs on a thread that exists only while records wait for it,
// never under the lock record() takes. The file is bounded: past
// `max_bytes` it is flushed, renamed to <path>.1 (replacing the older one)
// and a new file is started, so at most 2 x max_bytes stay on disk (a
// failed rotation is retried after another max_bytes, warned about once).
class FileAuditSink final : public AuditSink {
 public:
  static constexpr std::size_t kDefaultMaxBytes = 64u << 20;
  static constexpr std::chrono::milliseconds kDefaultSyncDelay{1000};
  static StatusOr<std::unique_ptr<FileAuditSink>> open(const std::string& path,
                                                       std::size_t max_bytes = kDefaultMaxBytes,
                                                       std::chrono::milliseconds sync_delay = kDefaultSyncDelay);
  // Flushes what is still unflushed.
  ~FileAuditSink() override;
  FileAuditSink(const FileAuditSink&) = delete;
  FileAuditSink& operator=(const FileAuditSink&) = delete;

  bool record(const AuditRecord& record) override;
  // fdatasync now if anything is unflushed (the destructor's last step).
  void flush();
  // Completed fdatasyncs of the group commit, for tests and benches.
  std::uint64_t syncs() const;

 private:
  struct File;  // the descriptor, closed when its last user lets go
  FileAuditSink(std::shared_ptr<File> file, std::string path, std::size_t size, std::size_t max_bytes,
                std::chrono::milliseconds sync_delay);
  std::shared_ptr<File> rotate_locked();
  bool start_flusher_locked();
  void run_flusher();
  void sync_file(const std::shared_ptr<File>& file);

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::shared_ptr<File> file_;
  std::string path_;
  std::size_t size_;
  std::size_t max_bytes_;
  std::size_t rotate_at_;           // size_ past which the next rotation is tried
  bool rotation_failing_ = false;   // warned already; quiet until one succeeds
  std::chrono::milliseconds sync_delay_;
  bool dirty_ = false;  // written since the last fdatasync began
  bool partial_line_ = false;  // the file ends in a record cut short
  std::chrono::steady_clock::time_point dirty_since_;
  bool flusher_running_ = false;
  bool stopping_ = false;
  std::uint64_t syncs_ = 0;
  std::thread flusher_;
};

// Forwards to a sink and counts, for metrics, each record written (rpc,
// result) and each one lost (rpc): not written by the sink, or, through
// lost(), one its caller could not even build.
class AuditTrail {
 public:
  using Counter = std::function<void(const std::string& rpc, const std::string& result)>;
  using LostCounter = std::function<void(const std::string& rpc)>;
  AuditTrail(AuditSink& sink, Counter count, LostCounter count_lost = {})
      : sink_(sink), count_(std::move(count)), count_lost_(std::move(count_lost)) {}
  // Throws only what the sink throws (the record is then not written);
  // counting that fails (no memory) is given up, never reported as a loss.
  void record(const AuditRecord& record) {
    const bool written = sink_.record(record);
    try {
      if (!written) {
        lost(record.rpc);
      } else if (count_) {
        count_(record.rpc, record.result);
      }
    } catch (...) {
    }
  }
  void lost(const std::string& rpc) {
    if (count_lost_) count_lost_(rpc);
  }

 private:
  AuditSink& sink_;
  Counter count_;
  LostCounter count_lost_;
};

}  // namespace chaos::agent
