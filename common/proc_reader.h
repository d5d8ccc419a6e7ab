// The one reader of /proc: pids, /proc/PID/stat, /proc/PID/cmdline. Every
// read is bounded and non-blocking; the root is a parameter so tests fake
// /proc with a directory of crafted files. Used by the agent's process
// table, the lab's process scan and the test and bench harnesses.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace chaos {

// How much of /proc/PID/cmdline is read: whole command lines of real
// programs (Java's run to tens of KiB); a longer one is cut here.
inline constexpr std::size_t kMaxProcCmdlineBytes = 128 * 1024;
inline constexpr std::size_t kMaxProcStatBytes = 4096;

// The fields of /proc/PID/stat that anything here needs.
struct ProcStat {
  std::string comm;  // may hold spaces and parentheses
  char state = '?';  // field 3: R, S, D, T, t, Z, X, ...
  int ppid = 0;      // field 4
  unsigned long flags = 0;  // field 9; PF_KTHREAD (0x00200000) marks kernel threads
  std::uint64_t user_ticks = 0;    // field 14 (utime)
  std::uint64_t system_ticks = 0;  // field 15 (stime)
  // Field 22 (clock ticks after boot). With the pid it names one process
  // for the machine's lifetime.
  std::uint64_t start_time = 0;

  bool kernel_thread() const { return (flags & 0x00200000UL) != 0; }
  // Exited but not reaped, or being torn down.
  bool dead() const { return state == 'Z' || state == 'X' || state == 'x'; }
};

// Parses the text of /proc/PID/stat: "PID (comm) S PPID ...", where the
// last ')' ends comm. nullopt for anything malformed or short.
std::optional<ProcStat> parse_proc_stat(const std::string& text);

// At most `limit` bytes of a file, read in small steps so a short file costs
// a short buffer; O_NONBLOCK so a FIFO where a /proc file should be cannot
// block the caller. nullopt when it cannot be opened.
std::optional<std::string> read_bounded(const std::string& path, std::size_t limit);

// The positive pids of a one-pid-per-line list (a cgroup's cgroup.procs or
// tasks); lines that are not a whole positive number are skipped.
std::vector<int> parse_pid_lines(const std::string& text);

class ProcReader {
 public:
  explicit ProcReader(std::string root = "/proc") : root_(std::move(root)) {}

  // The numeric entries of the root, in increasing order.
  std::vector<int> pids() const;
  // nullopt when the process is gone (or its stat is malformed).
  std::optional<ProcStat> stat(int pid) const;
  // argv as the kernel holds it (at most kMaxProcCmdlineBytes of it); empty
  // for kernel threads and zombies, nullopt when the process is gone.
  std::optional<std::vector<std::string>> argv(int pid) const;
  // argv joined by single spaces (the form patterns are matched against).
  std::optional<std::string> cmdline(int pid) const;
  // Inode of PID/ns/net ("self" works too); 0 if unreadable.
  std::uint64_t netns_inode(const std::string& pid) const;

  std::string path_of(int pid) const { return root_ + "/" + std::to_string(pid); }
  const std::string& root() const { return root_; }

 private:
  std::string root_;
};

}  // namespace chaos
