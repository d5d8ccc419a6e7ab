#include "agent/faults/stress/worker_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/proc_reader.h"

namespace chaos::agent::stress {

namespace {

constexpr std::int64_t kStressWorkerPeriodNs = 100'000'000;

// What the child needs, computed before fork: no floating point formatting,
// no sysconf, nothing that may take a lock.
struct StressChildPlan {
  int control_fd = -1;
  int report_fd = -1;
  bool memory = false;
  std::int64_t busy_ns = 0;
  std::uint64_t bytes = 0;
  std::uint64_t page_bytes = 4096;
};

// Everything below runs in the forked child: raw system calls only, and no
// sanitizer instrumentation (the runtime's locks may be held by a thread
// that does not exist in the child).
#define CHAOS_STRESS_CHILD __attribute__((no_sanitize("address", "undefined")))

[[noreturn]] CHAOS_STRESS_CHILD void stress_child_exit(int code) {
  ::syscall(SYS_exit_group, code);
  for (;;) {
  }
}

CHAOS_STRESS_CHILD std::int64_t stress_child_now_ns() {
  timespec now{};
  ::syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &now);
  return static_cast<std::int64_t>(now.tv_sec) * 1'000'000'000 + now.tv_nsec;
}

CHAOS_STRESS_CHILD void stress_child_close_range(unsigned first, unsigned last) {
  if (first > last) return;
  if (::syscall(SYS_close_range, first, last, 0U) == 0) return;
  const unsigned limit = last < 65536 ? last : 65535;
  for (unsigned fd = first; fd <= limit; ++fd) ::syscall(SYS_close, fd);
}

// True once the control pipe has a byte or is closed, within `timeout_ns`.
CHAOS_STRESS_CHILD bool stress_child_control_event(int fd, std::int64_t timeout_ns) {
  pollfd poll_fd{fd, POLLIN, 0};
  timespec timeout{static_cast<time_t>(timeout_ns / 1'000'000'000), static_cast<long>(timeout_ns % 1'000'000'000)};
  const long ready = ::syscall(SYS_ppoll, &poll_fd, 1, &timeout, nullptr, 0);
  return ready > 0;
}

[[noreturn]] CHAOS_STRESS_CHILD void stress_child_hold(int control_fd) {
  char byte = 0;
  for (;;) {
    const long got = ::syscall(SYS_read, control_fd, &byte, 1);
    if (got == 0 || (got < 0 && errno != EINTR)) stress_child_exit(kWorkerExitStopped);
  }
}

[[noreturn]] CHAOS_STRESS_CHILD void stress_child_main(const StressChildPlan& plan) {
  // Only the two pipe ends stay open: the child must not hold the agent's
  // sockets, journal or another worker's control pipe.
  const unsigned low = static_cast<unsigned>(plan.control_fd < plan.report_fd ? plan.control_fd : plan.report_fd);
  const unsigned high = static_cast<unsigned>(plan.control_fd < plan.report_fd ? plan.report_fd : plan.control_fd);
  if (low > 0) stress_child_close_range(0, low - 1);
  stress_child_close_range(low + 1, high - 1);
  stress_child_close_range(high + 1, ~0U);

  const long adj_fd = ::syscall(SYS_openat, AT_FDCWD, "/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
  if (adj_fd < 0 || ::syscall(SYS_write, adj_fd, "1000", 4) != 4) stress_child_exit(kWorkerExitSetupFailed);
  ::syscall(SYS_close, adj_fd);

  char go = 0;
  long got = 0;
  do {
    got = ::syscall(SYS_read, plan.control_fd, &go, 1);
  } while (got < 0 && errno == EINTR);
  if (got != 1) stress_child_exit(kWorkerExitStopped);

  if (plan.memory) {
    const long mapped = ::syscall(SYS_mmap, nullptr, plan.bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                                  -1, 0);
    if (mapped == -1 || mapped == 0) stress_child_exit(kWorkerExitNoMemory);
    volatile char* memory = reinterpret_cast<volatile char*>(mapped);
    const char progress = kWorkerReportMebibyte;
    for (std::uint64_t offset = 0; offset < plan.bytes; offset += plan.page_bytes) {
      memory[offset] = 1;
      // A byte per MiB touched; lost when the agent does not read (the
      // pipe is non-blocking), which only makes the report smaller.
      if ((offset + plan.page_bytes) % kWorkerReportUnit < plan.page_bytes) {
        ::syscall(SYS_write, plan.report_fd, &progress, 1);
      }
    }
    const char ready = kWorkerReportReady;
    while (::syscall(SYS_write, plan.report_fd, &ready, 1) != 1) {
      if (stress_child_control_event(plan.control_fd, 10'000'000)) stress_child_exit(kWorkerExitStopped);
    }
    stress_child_hold(plan.control_fd);
  }
  for (;;) {
    const std::int64_t period_start = stress_child_now_ns();
    while (stress_child_now_ns() - period_start < plan.busy_ns) {
    }
    const std::int64_t rest = kStressWorkerPeriodNs - (stress_child_now_ns() - period_start);
    if (stress_child_control_event(plan.control_fd, rest > 0 ? rest : 0)) stress_child_exit(kWorkerExitStopped);
  }
}

}  // namespace

StatusOr<std::unique_ptr<WorkerProcess>> WorkerProcess::spawn(const WorkerJob& job, const std::string& proc_root) {
  int control[2];
  int report[2];
  if (::pipe2(control, O_CLOEXEC) != 0) return resource_exhausted(std::string("stress worker: pipe: ") + std::strerror(errno));
  UniqueFd control_read(control[0]);
  UniqueFd control_write(control[1]);
  if (::pipe2(report, O_CLOEXEC | O_NONBLOCK) != 0) {
    return resource_exhausted(std::string("stress worker: pipe: ") + std::strerror(errno));
  }
  UniqueFd report_read(report[0]);
  UniqueFd report_write(report[1]);

  StressChildPlan plan;
  plan.control_fd = control_read.get();
  plan.report_fd = report_write.get();
  plan.memory = job.work == WorkerJob::Work::kMemory;
  plan.busy_ns = static_cast<std::int64_t>(static_cast<double>(kStressWorkerPeriodNs) * job.load);
  plan.bytes = job.bytes;
  const long page = ::sysconf(_SC_PAGESIZE);
  if (page > 0) plan.page_bytes = static_cast<std::uint64_t>(page);

  const pid_t pid = ::fork();
  if (pid < 0) return resource_exhausted(std::string("stress worker: fork: ") + std::strerror(errno));
  if (pid == 0) stress_child_main(plan);

  std::unique_ptr<WorkerProcess> worker(new WorkerProcess(pid, std::move(control_write), std::move(report_read)));
  if (const auto stat = ProcReader(proc_root).stat(pid)) worker->start_time_ = stat->start_time;
  return worker;
}

WorkerProcess::~WorkerProcess() { kill_and_reap(); }

Status WorkerProcess::start() {
  const char go = 'g';
  if (!control_.valid() || ::write(control_.get(), &go, 1) != 1) {
    return internal_error("stress worker " + std::to_string(pid_) + ": cannot be started: " + std::strerror(errno));
  }
  return {};
}

void WorkerProcess::read_reports() {
  char bytes[256];
  for (;;) {
    const ssize_t got = report_.valid() ? ::read(report_.get(), bytes, sizeof bytes) : -1;
    if (got <= 0) return;
    for (ssize_t i = 0; i < got; ++i) {
      if (bytes[i] == kWorkerReportMebibyte) touched_bytes_ += kWorkerReportUnit;
      if (bytes[i] == kWorkerReportReady) ready_ = true;
    }
  }
}

bool WorkerProcess::ready() {
  read_reports();
  return ready_;
}

std::uint64_t WorkerProcess::touched_bytes() {
  read_reports();
  return touched_bytes_;
}

std::optional<int> WorkerProcess::exit_status() {
  if (exit_status_) return exit_status_;
  int status = 0;
  const pid_t reaped = ::waitpid(pid_, &status, WNOHANG);
  if (reaped == pid_) exit_status_ = status;
  // ECHILD: reaped by someone else; the child is gone all the same.
  if (reaped < 0 && errno == ECHILD) exit_status_ = 0;
  return exit_status_;
}

void WorkerProcess::kill_and_reap() {
  if (exit_status_) return;
  // Not reaped yet, so the pid cannot have been given to another process.
  ::kill(pid_, SIGKILL);
  control_.reset();
  int status = 0;
  pid_t reaped = 0;
  do {
    reaped = ::waitpid(pid_, &status, 0);
  } while (reaped < 0 && errno == EINTR);
  exit_status_ = reaped == pid_ ? status : 0;
}

std::string WorkerProcess::describe_exit(int wait_status) {
  if (WIFSIGNALED(wait_status)) {
    const int signal = WTERMSIG(wait_status);
    const char* name = sigabbrev_np(signal);
    return std::string("was killed by ") + (name ? "SIG" + std::string(name) : "signal " + std::to_string(signal));
  }
  const int code = WEXITSTATUS(wait_status);
  std::string text = "exited with code " + std::to_string(code);
  if (code == kWorkerExitNoMemory) text += " (mmap refused the memory)";
  if (code == kWorkerExitSetupFailed) text += " (cannot write its oom_score_adj)";
  return text;
}

}  // namespace chaos::agent::stress
