#include "agent/security/audit_log.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <iostream>
#include <system_error>
#include <utility>

#include "common/rfc3339.h"
#include "common/thread_name.h"

namespace chaos::agent {

namespace {

constexpr std::size_t kMaxFieldLength = 512;
constexpr std::size_t kMaxRequestLength = 4096;

std::string bounded(const std::string& text, std::size_t limit = kMaxFieldLength) {
  if (text.size() <= limit) return text;
  return text.substr(0, limit) + "...(" + std::to_string(text.size()) + " bytes)";
}

std::string dump(const nlohmann::json& value) {
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

std::string audit_line(const AuditRecord& record) {
  nlohmann::json request = record.request;
  if (const std::string text = dump(request); text.size() > kMaxRequestLength) {
    request = {{"truncated", bounded(text, kMaxRequestLength)}};
  }
  const nlohmann::json line = {{"time", format_rfc3339(record.time)},   {"caller", bounded(record.caller)},
                               {"peer", bounded(record.peer)},    {"rpc", bounded(record.rpc)},
                               {"request", request},              {"result", bounded(record.result)},
                               {"message", bounded(record.message)}};
  return dump(line);
}

struct FileAuditSink::File {
  explicit File(int descriptor) : fd(descriptor) {}
  ~File() { ::close(fd); }
  File(const File&) = delete;
  File& operator=(const File&) = delete;
  const int fd;
};

namespace {

StatusOr<int> open_audit_file(const std::string& path) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return permission_denied(path + ": cannot open audit log: " + std::strerror(errno));
  // An existing file keeps its owner but never stays readable by others.
  if (::fchmod(fd, 0600) != 0) {
    ::close(fd);
    return permission_denied(path + ": cannot restrict audit log to 0600: " + std::strerror(errno));
  }
  return fd;
}

std::size_t audit_file_size(int fd) {
  struct stat info {};
  return ::fstat(fd, &info) == 0 ? static_cast<std::size_t>(info.st_size) : 0;
}

void warn_audit(const std::string& what, const std::string& path) {
  std::cerr << "chaos-agent: warning: " << what << " audit log " << path << ": " << std::strerror(errno) << std::endl;
}

}  // namespace

StatusOr<std::unique_ptr<FileAuditSink>> FileAuditSink::open(const std::string& path, std::size_t max_bytes,
                                                             std::chrono::milliseconds sync_delay) {
  CHAOS_ASSIGN_OR_RETURN(const int fd, open_audit_file(path));
  const std::size_t size = audit_file_size(fd);
  return std::unique_ptr<FileAuditSink>(
      new FileAuditSink(std::make_shared<File>(fd), path, size, max_bytes, sync_delay));
}

FileAuditSink::FileAuditSink(std::shared_ptr<File> file, std::string path, std::size_t size, std::size_t max_bytes,
                             std::chrono::milliseconds sync_delay)
    : file_(std::move(file)),
      path_(std::move(path)),
      size_(size),
      max_bytes_(max_bytes),
      rotate_at_(max_bytes),
      sync_delay_(sync_delay) {}

FileAuditSink::~FileAuditSink() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (flusher_.joinable()) flusher_.join();
  flush();
}

// Rare (every max_bytes). Returns the old file when it has unflushed
// records: the caller flushes it after unlocking (the shared_ptr keeps it
// open; the rename does not lose what the page cache holds). A failed
// rotation is retried only after another max_bytes, and warned about once
// until a rotation succeeds, so a full or read-only directory does not
// cost every record a rename and a line on stderr.
std::shared_ptr<FileAuditSink::File> FileAuditSink::rotate_locked() {
  const std::string previous = path_ + ".1";
  // ENOENT: the file is gone already (a rename whose reopen failed).
  if (::rename(path_.c_str(), previous.c_str()) != 0 && errno != ENOENT) {
    if (!rotation_failing_) warn_audit("cannot rotate (retrying after another max_bytes)", path_);
    rotation_failing_ = true;
    rotate_at_ = size_ + max_bytes_;
    return nullptr;
  }
  auto fd = open_audit_file(path_);
  if (!fd.ok()) {
    if (!rotation_failing_) {
      std::cerr << "chaos-agent: warning: " << fd.status().message() << "; still writing to " << previous
                << " (retrying after another max_bytes)" << std::endl;
    }
    rotation_failing_ = true;
    rotate_at_ = size_ + max_bytes_;
    return nullptr;
  }
  std::shared_ptr<File> old = std::exchange(file_, std::make_shared<File>(*fd));
  size_ = 0;
  rotate_at_ = max_bytes_;
  rotation_failing_ = false;
  partial_line_ = false;  // the cut record stays in the old file
  if (!dirty_) return nullptr;
  dirty_ = false;
  return old;
}

bool FileAuditSink::record(const AuditRecord& record) {
  std::string line = audit_line(record) + "\n";
  std::unique_lock lock(mutex_);
  std::shared_ptr<File> to_sync;
  if (size_ > 0 && size_ + line.size() > rotate_at_) to_sync = rotate_locked();
  // After a short write (a full disk) the file ends in a cut record: this
  // one starts on a line of its own, so every whole record still parses.
  if (partial_line_) line.insert(line.begin(), '\n');
  // O_APPEND makes one write() one record even with other writers.
  const ssize_t written = ::write(file_->fd, line.data(), line.size());
  if (written > 0) size_ += static_cast<std::size_t>(written);
  const bool whole = written == static_cast<ssize_t>(line.size());
  if (whole) {
    partial_line_ = false;
  } else {
    if (written > 0) partial_line_ = true;
    warn_audit("cannot append to", path_);
  }
  if (written > 0) {
    if (!dirty_) dirty_since_ = std::chrono::steady_clock::now();
    dirty_ = true;
    if (!flusher_running_ && !stopping_ && !start_flusher_locked()) {
      // No thread to spare (EAGAIN): flush here rather than not at all.
      if (to_sync != nullptr) {
        lock.unlock();
        sync_file(to_sync);
        lock.lock();
      }
      to_sync = file_;
      dirty_ = false;
    }
  }
  lock.unlock();
  if (to_sync != nullptr) sync_file(to_sync);
  return whole;
}

bool FileAuditSink::start_flusher_locked() {
  // The previous flusher has left its loop (flusher_running_ is false);
  // joining it here costs nothing.
  if (flusher_.joinable()) flusher_.join();
  try {
    flusher_ = std::thread([this] {
      set_current_thread_name("chaos-audit");
      run_flusher();
    });
    flusher_running_ = true;
    return true;
  } catch (const std::system_error&) {
    return false;
  }
}

// Waits out the delay of the oldest unflushed record, flushes, and ends
// once nothing is left to flush (no idle thread).
// An exception (bad_alloc in a warning) ends this thread's work, never the
// agent; the next record starts a new flusher.
void FileAuditSink::run_flusher() {
  std::unique_lock lock(mutex_);
  try {
    while (dirty_ && !stopping_) {
      if (wake_.wait_until(lock, dirty_since_ + sync_delay_, [this] { return stopping_; })) break;
      const std::shared_ptr<File> file = file_;
      dirty_ = false;  // records written from now on wait for the next flush
      lock.unlock();
      sync_file(file);
      lock.lock();
    }
  } catch (...) {
    if (!lock.owns_lock()) lock.lock();
  }
  flusher_running_ = false;
}

// A failed fdatasync marks the records unflushed again: the flusher retries
// after the delay instead of forgetting them.
void FileAuditSink::sync_file(const std::shared_ptr<File>& file) {
  const bool synced = ::fdatasync(file->fd) == 0;
  if (!synced) warn_audit("cannot flush", path_);
  std::lock_guard lock(mutex_);
  if (synced) {
    ++syncs_;
    return;
  }
  if (!dirty_) dirty_since_ = std::chrono::steady_clock::now();
  dirty_ = true;
}

void FileAuditSink::flush() {
  std::shared_ptr<File> file;
  {
    std::lock_guard lock(mutex_);
    if (!dirty_) return;
    dirty_ = false;
    file = file_;
  }
  sync_file(file);
}

std::uint64_t FileAuditSink::syncs() const {
  std::lock_guard lock(mutex_);
  return syncs_;
}

}  // namespace chaos::agent
