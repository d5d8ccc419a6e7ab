// The audit trail: every Inject, Revert and RevertAll (halt), and every
// refused request (bad token, invalid input, policy), as one JSON line with
// time, caller identity, peer, request summary and result. The sink is a
// narrow interface so the service is unit-tested with an in-memory fake.
#pragma once

#include <chrono>
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>

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
  virtual void record(const AuditRecord& record) = 0;
};

// Appends to a file (created 0600) and fdatasync()s every record, so an
// entry survives the agent being killed right after answering. The file is
// bounded: past `max_bytes` it is renamed to <path>.1 (replacing the older
// one) and a new file is started, so at most 2 x max_bytes stay on disk.
class FileAuditSink final : public AuditSink {
 public:
  static constexpr std::size_t kDefaultMaxBytes = 64u << 20;
  static StatusOr<std::unique_ptr<FileAuditSink>> open(const std::string& path,
                                                       std::size_t max_bytes = kDefaultMaxBytes);
  ~FileAuditSink() override;
  FileAuditSink(const FileAuditSink&) = delete;
  FileAuditSink& operator=(const FileAuditSink&) = delete;

  void record(const AuditRecord& record) override;

 private:
  FileAuditSink(int fd, std::string path, std::size_t size, std::size_t max_bytes)
      : fd_(fd), path_(std::move(path)), size_(size), max_bytes_(max_bytes) {}
  void rotate_locked();

  std::mutex mutex_;
  int fd_;
  std::string path_;
  std::size_t size_;
  std::size_t max_bytes_;
};

// Forwards to a sink and counts each event (rpc, result) for metrics.
class AuditTrail {
 public:
  using Counter = std::function<void(const std::string& rpc, const std::string& result)>;
  AuditTrail(AuditSink& sink, Counter count) : sink_(sink), count_(std::move(count)) {}
  void record(const AuditRecord& record) {
    sink_.record(record);
    if (count_) count_(record.rpc, record.result);
  }

 private:
  AuditSink& sink_;
  Counter count_;
};

}  // namespace chaos::agent
