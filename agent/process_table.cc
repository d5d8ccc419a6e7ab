#include "agent/process_table.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <sstream>

namespace chaos::agent {

namespace {

constexpr unsigned long kPfKthread = 0x00200000;
constexpr std::size_t kMaxStatBytes = 4096;

// At most `limit` bytes of a /proc file, read in small steps so a short
// file costs a short buffer. O_NONBLOCK: should proc_root ever hold a FIFO,
// it must not block the agent.
std::optional<std::string> read_bounded(const std::string& path, std::size_t limit) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  std::string text;
  char chunk[4096];
  while (text.size() < limit) {
    const ssize_t got = ::read(fd, chunk, std::min(sizeof(chunk), limit - text.size()));
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;
    text.append(chunk, static_cast<std::size_t>(got));
  }
  ::close(fd);
  return text;
}

std::string join_cmdline(std::string raw) {
  while (!raw.empty() && raw.back() == '\0') raw.pop_back();
  std::replace(raw.begin(), raw.end(), '\0', ' ');
  return raw;
}

std::uint64_t netns_inode_of(const std::string& path) {
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) return 0;
  return static_cast<std::uint64_t>(info.st_ino);
}

Status errno_status(int error, int pid, int signal) {
  const std::string what = "signal " + std::to_string(signal) + " to pid " + std::to_string(pid) + ": ";
  if (error == ESRCH) return not_found(what + "no such process");
  if (error == EPERM) return permission_denied(what + "operation not permitted (needs CAP_KILL)");
  return internal_error(what + std::strerror(error));
}

int open_pidfd(int pid) { return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)); }

}  // namespace

std::optional<StatFields> parse_proc_stat(const std::string& text) {
  // "PID (comm) S PPID ..." where comm may hold spaces and parentheses: the
  // last ')' ends it.
  const auto open = text.find('(');
  const auto close = text.rfind(')');
  if (open == std::string::npos || close == std::string::npos || close < open) return std::nullopt;
  StatFields fields;
  fields.comm = text.substr(open + 1, close - open - 1);
  std::istringstream rest(text.substr(close + 1));
  std::vector<std::string> tokens;
  for (std::string token; rest >> token;) tokens.push_back(token);
  // tokens[0] is field 3 (state); field N is tokens[N - 3].
  if (tokens.size() < 20 || tokens[0].size() != 1) return std::nullopt;
  try {
    fields.state = tokens[0][0];
    fields.ppid = std::stoi(tokens[1]);
    fields.flags = std::stoul(tokens[6]);
    fields.start_time = std::stoull(tokens[19]);
  } catch (const std::exception&) {
    return std::nullopt;
  }
  return fields;
}

ProcProcessTable::ProcProcessTable(std::string proc_root) : proc_root_(std::move(proc_root)) {}

std::optional<ProcessInfo> ProcProcessTable::get(int pid) {
  const std::string dir = proc_root_ + "/" + std::to_string(pid);
  auto stat_text = read_bounded(dir + "/stat", kMaxStatBytes);
  if (!stat_text) return std::nullopt;
  auto fields = parse_proc_stat(*stat_text);
  if (!fields) return std::nullopt;
  ProcessInfo info;
  info.pid = pid;
  info.ppid = fields->ppid;
  info.comm = fields->comm;
  info.state = fields->state;
  info.start_time = fields->start_time;
  info.kernel_thread = (fields->flags & kPfKthread) != 0;
  info.cmdline = join_cmdline(read_bounded(dir + "/cmdline", kMaxCmdlineBytes).value_or(""));
  info.netns_inode = netns_inode_of(dir + "/ns/net");
  return info;
}

std::vector<ProcessInfo> ProcProcessTable::list() {
  std::vector<int> pids;
  if (DIR* dir = ::opendir(proc_root_.c_str())) {
    while (const dirent* entry = ::readdir(dir)) {
      const std::string name = entry->d_name;
      const bool numeric = std::all_of(name.begin(), name.end(), [](char c) { return c >= '0' && c <= '9'; });
      if (!name.empty() && numeric) pids.push_back(std::stoi(name));
    }
    ::closedir(dir);
  }
  std::sort(pids.begin(), pids.end());
  std::vector<ProcessInfo> processes;
  for (int pid : pids) {
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
  auto current = get(pid);
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

std::uint64_t ProcProcessTable::self_netns_inode() const { return netns_inode_of(proc_root_ + "/self/ns/net"); }

}  // namespace chaos::agent
