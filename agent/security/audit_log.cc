#include "agent/security/audit_log.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <iostream>

#include "common/rfc3339.h"

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

std::size_t file_size(int fd) {
  struct stat info {};
  return ::fstat(fd, &info) == 0 ? static_cast<std::size_t>(info.st_size) : 0;
}

}  // namespace

StatusOr<std::unique_ptr<FileAuditSink>> FileAuditSink::open(const std::string& path, std::size_t max_bytes) {
  CHAOS_ASSIGN_OR_RETURN(const int fd, open_audit_file(path));
  return std::unique_ptr<FileAuditSink>(new FileAuditSink(fd, path, file_size(fd), max_bytes));
}

void FileAuditSink::rotate_locked() {
  const std::string previous = path_ + ".1";
  if (::rename(path_.c_str(), previous.c_str()) != 0) {
    std::cerr << "chaos-agent: warning: cannot rotate audit log " << path_ << ": " << std::strerror(errno)
              << std::endl;
    return;
  }
  auto fd = open_audit_file(path_);
  if (!fd.ok()) {
    std::cerr << "chaos-agent: warning: " << fd.status().message() << "; still writing to " << previous << std::endl;
    return;
  }
  ::close(fd_);
  fd_ = *fd;
  size_ = 0;
}

FileAuditSink::~FileAuditSink() { ::close(fd_); }

void FileAuditSink::record(const AuditRecord& record) {
  const std::string line = audit_line(record) + "\n";
  std::lock_guard lock(mutex_);
  if (size_ > 0 && size_ + line.size() > max_bytes_) rotate_locked();
  // O_APPEND makes one write() one record even with other writers.
  const ssize_t written = ::write(fd_, line.data(), line.size());
  if (written > 0) size_ += static_cast<std::size_t>(written);
  if (written != static_cast<ssize_t>(line.size()) || ::fdatasync(fd_) != 0) {
    std::cerr << "chaos-agent: warning: cannot append to audit log " << path_ << ": " << std::strerror(errno)
              << std::endl;
  }
}

}  // namespace chaos::agent
