// One stress worker: a child process of the agent that burns CPU or holds
// memory until it is killed or the agent is gone. A child, not a thread, so
// its memory is its own (the agent's does not grow and the OOM killer can
// take it alone: it sets its oom_score_adj to 1000) and so it can be placed
// in another process's cgroup.
//
// The agent is multi-threaded and sanitizer-instrumented, so after fork the
// child makes raw system calls only (no allocation, no locks). It closes
// every inherited descriptor but its two pipe ends, waits for start(), then
// works; it exits at end-of-file on its control pipe, which comes when the
// agent closes it or dies (whatever thread forked it: PR_SET_PDEATHSIG
// would fire when that thread ends).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "common/status.h"
#include "common/unique_fd.h"

namespace chaos::agent::stress {

struct WorkerJob {
  enum class Work { kCpu, kMemory };
  Work work = Work::kCpu;
  double load = 1.0;         // kCpu: busy share of every 100 ms
  std::uint64_t bytes = 0;   // kMemory: allocated and touched
};

// Exit codes of a worker that ended on its own.
inline constexpr int kWorkerExitStopped = 0;       // control pipe closed
inline constexpr int kWorkerExitNoMemory = 70;     // mmap refused
inline constexpr int kWorkerExitSetupFailed = 71;  // oom_score_adj not writable
// What a memory worker reports on its report pipe: a byte per MiB touched,
// then one when it holds all of it.
inline constexpr char kWorkerReportMebibyte = 'm';
inline constexpr char kWorkerReportReady = 'r';
inline constexpr std::uint64_t kWorkerReportUnit = 1ULL << 20;

class WorkerProcess {
 public:
  // Forks the child, which waits for start(). RESOURCE_EXHAUSTED when the
  // pipes or the fork fail.
  static StatusOr<std::unique_ptr<WorkerProcess>> spawn(const WorkerJob& job, const std::string& proc_root = "/proc");
  // Kills and reaps the child when it still runs.
  ~WorkerProcess();
  WorkerProcess(const WorkerProcess&) = delete;
  WorkerProcess& operator=(const WorkerProcess&) = delete;

  int pid() const { return pid_; }
  // Field 22 of /proc/PID/stat: with the pid, names this child for the
  // machine's lifetime (recovery after a crash checks it).
  std::uint64_t start_time() const { return start_time_; }

  // Lets the child begin its work.
  Status start();
  // kMemory: the child has touched every page. Non-blocking.
  bool ready();
  // kMemory: what the child says it has touched so far (whole MiB): the
  // size it reached when something killed it.
  std::uint64_t touched_bytes();
  // The raw wait status once the child has ended (reaped here, once).
  std::optional<int> exit_status();
  // SIGKILL and reap; idempotent.
  void kill_and_reap();
  // "was killed by SIGKILL", "exited with code 70 (no memory)".
  static std::string describe_exit(int wait_status);

 private:
  void read_reports();
  WorkerProcess(pid_t pid, UniqueFd control, UniqueFd report) : pid_(pid), control_(std::move(control)), report_(std::move(report)) {}

  pid_t pid_;
  std::uint64_t start_time_ = 0;
  UniqueFd control_;  // write end: one byte starts the work, closing stops it
  UniqueFd report_;   // read end: the child writes one byte once its memory is touched
  bool ready_ = false;
  std::uint64_t touched_bytes_ = 0;
  std::optional<int> exit_status_;
};

}  // namespace chaos::agent::stress
