// The agent's one window onto processes: list them, signal them. The real
// implementation reads /proc; unit tests use a fake table so process-fault
// logic is tested without touching real processes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/proc_reader.h"
#include "common/status.h"

namespace chaos::agent {

// Which processes process faults may target. kNetns: only processes in the
// agent's own network namespace (lab nodes are network namespaces that share
// one pid namespace).
enum class ProcessScope { kAll, kNetns };

// How much of /proc/PID/cmdline the agent reads: whole command lines of
// real programs (Java's run to tens of KiB) for cmdline_regex and the
// protected-process patterns, which RE2 searches in linear time.
constexpr std::size_t kMaxCmdlineBytes = kMaxProcCmdlineBytes;

struct ProcessInfo {
  int pid = 0;
  int ppid = 0;
  std::string comm;     // /proc/PID/comm (at most 15 characters)
  std::string cmdline;  // argv joined by single spaces, at most kMaxCmdlineBytes; empty for kernel threads
  char state = '?';     // field 3 of /proc/PID/stat: R, S, D, T, t, Z, ...
  // Field 22 of /proc/PID/stat (clock ticks after boot). With the pid it
  // names one process for the machine's lifetime, so a recycled pid is never
  // mistaken for the process the agent paused.
  std::uint64_t start_time = 0;
  std::uint64_t netns_inode = 0;  // inode of /proc/PID/ns/net; 0 if unreadable
  // Inode of /proc/PID/ns/pid; 0 if unreadable. A container's processes
  // share their init's, so faults that target a container select by it.
  std::uint64_t pidns_inode = 0;
  bool kernel_thread = false;
};

class ProcessTable {
 public:
  virtual ~ProcessTable() = default;
  // Every process visible now, in increasing pid order.
  virtual std::vector<ProcessInfo> list() = 0;
  // One process, or nullopt when it is gone.
  virtual std::optional<ProcessInfo> get(int pid) = 0;
  // Only what /proc/PID/stat holds (pid, ppid, comm, state, start_time,
  // kernel_thread; cmdline and namespaces left empty): one read instead of
  // get()'s four, for the checks that need nothing else - is this still the
  // process we mean, is it stopped - which run several times per fault.
  virtual std::optional<ProcessInfo> get_stat(int pid) { return get(pid); }
  // Sends `signal` to `pid` only while that pid still names the process that
  // started at `start_time`. NOT_FOUND when the process is gone (or the pid
  // was recycled), PERMISSION_DENIED when the kernel refuses.
  virtual Status send_signal(int pid, std::uint64_t start_time, int signal) = 0;
  // The pid `pid` has inside its own pid namespace (the last NSpid field of
  // /proc/PID/status), which is what a container's pid files hold. nullopt
  // when the process is gone or the table cannot tell.
  virtual std::optional<int> namespace_pid(int pid) {
    (void)pid;
    return std::nullopt;
  }
  // The agent's own pid and its parent's: never signalled.
  virtual int self_pid() const = 0;
  virtual int parent_pid() const = 0;
  // The agent's own network namespace inode (for --process-scope netns).
  virtual std::uint64_t self_netns_inode() const = 0;
};

// /proc-backed table. Signals go through pidfd_open + pidfd_send_signal
// after re-checking the start time, so a pid recycled between the check and
// the signal is never hit (plain kill() where the kernel lacks pidfds).
class ProcProcessTable final : public ProcessTable {
 public:
  explicit ProcProcessTable(std::string proc_root = "/proc");
  std::vector<ProcessInfo> list() override;
  std::optional<ProcessInfo> get(int pid) override;
  std::optional<ProcessInfo> get_stat(int pid) override;
  Status send_signal(int pid, std::uint64_t start_time, int signal) override;
  std::optional<int> namespace_pid(int pid) override;
  int self_pid() const override;
  int parent_pid() const override;
  std::uint64_t self_netns_inode() const override;

 private:
  ProcReader proc_;
};

}  // namespace chaos::agent
