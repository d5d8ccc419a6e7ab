#include "agent/process_table.h"

#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <csignal>
#include <cstring>
#include <sstream>

namespace chaos::agent {

namespace {

Status errno_status(int error, int pid, int signal) {
  const std::string what = "signal " + std::to_string(signal) + " to pid " + std::to_string(pid) + ": ";
  if (error == ESRCH) return not_found(what + "no such process");
  if (error == EPERM) return permission_denied(what + "operation not permitted (needs CAP_KILL)");
  return internal_error(what + std::strerror(error));
}

// /proc/PID/status is a few KiB; NSpid sits in its first half.
constexpr std::size_t kMaxStatusBytes = 16 * 1024;

std::uint64_t inode_of(const std::string& path) {
  struct stat info {};
  return ::stat(path.c_str(), &info) == 0 ? static_cast<std::uint64_t>(info.st_ino) : 0;
}

int open_pidfd(int pid) { return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)); }

}  // namespace

ProcProcessTable::ProcProcessTable(std::string proc_root) : proc_(std::move(proc_root)) {}

std::optional<ProcessInfo> ProcProcessTable::get_stat(int pid) {
  auto fields = proc_.stat(pid);
  if (!fields) return std::nullopt;
  ProcessInfo info;
  info.pid = pid;
  info.ppid = fields->ppid;
  info.comm = fields->comm;
  info.state = fields->state;
  info.start_time = fields->start_time;
  info.kernel_thread = fields->kernel_thread();
  return info;
}

std::optional<ProcessInfo> ProcProcessTable::get(int pid) {
  auto info = get_stat(pid);
  if (!info) return std::nullopt;
  info->cmdline = proc_.cmdline(pid).value_or("");
  info->netns_inode = proc_.netns_inode(std::to_string(pid));
  info->pidns_inode = inode_of(proc_.path_of(pid) + "/ns/pid");
  return info;
}

std::optional<int> ProcProcessTable::namespace_pid(int pid) {
  const auto status = read_bounded(proc_.path_of(pid) + "/status", kMaxStatusBytes);
  if (!status) return std::nullopt;
  std::istringstream lines(*status);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind("NSpid:", 0) != 0) continue;
    // "NSpid:\t3737\t1": the host's pid first, the innermost namespace's last.
    const auto last = line.find_last_of(" \t");
    if (last == std::string::npos) return std::nullopt;
    int inner = 0;
    const char* first = line.data() + last + 1;
    const char* end = line.data() + line.size();
    if (std::from_chars(first, end, inner).ptr != end || inner <= 0) return std::nullopt;
    return inner;
  }
  return std::nullopt;  // a kernel without NSpid (< 4.1) has no pid namespaces to tell apart
}

std::vector<ProcessInfo> ProcProcessTable::list() {
  std::vector<ProcessInfo> processes;
  for (int pid : proc_.pids()) {
    // A process may exit between readdir and reading it: skip it.
    if (auto info = get(pid)) processes.push_back(std::move(*info));
  }
  return processes;
}

Status ProcProcessTable::send_signal(int pid, std::uint64_t start_time, int signal) {
  // Pin the process first, then check it is still the one we mean: after
  // pidfd_open the pid cannot be recycled under us.
  const int pidfd = open_pidfd(pid);
  if (pidfd < 0 && errno == ESRCH) return errno_status(ESRCH, pid, signal);
  // Only a kernel without pidfds (< 5.3) falls back to an unpinned kill();
  // out of descriptors or memory, a kill could hit a recycled pid.
  if (pidfd < 0 && errno != ENOSYS) {
    const int error = errno;
    return unavailable("pid " + std::to_string(pid) + ": cannot pin the process (pidfd_open): " +
                       std::strerror(error));
  }
  auto current = get_stat(pid);
  if (!current || current->start_time != start_time) {
    if (pidfd >= 0) ::close(pidfd);
    return not_found("pid " + std::to_string(pid) + " is gone (or was recycled)");
  }
  int result = 0;
  if (pidfd >= 0) {
    result = static_cast<int>(::syscall(SYS_pidfd_send_signal, pidfd, signal, nullptr, 0));
    const int error = errno;
    ::close(pidfd);
    errno = error;
  } else {
    result = ::kill(pid, signal);  // kernel without pidfds (< 5.3)
  }
  if (result != 0) return errno_status(errno, pid, signal);
  return {};
}

int ProcProcessTable::self_pid() const { return static_cast<int>(::getpid()); }

int ProcProcessTable::parent_pid() const { return static_cast<int>(::getppid()); }

std::uint64_t ProcProcessTable::self_netns_inode() const { return proc_.netns_inode("self"); }

}  // namespace chaos::agent
