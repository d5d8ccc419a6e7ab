#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iostream>

#include "common/command_runner.h"
#include "lab/container_launcher.h"
#include "lab/lab_operations.h"
#include "lab/lab_processes.h"
#include "lab/experiment_probe_flags.h"
#include "lab/probe_flags_launcher.h"
#include "lab/stream_leader.h"
#include "lab/supervisor.h"

namespace chaos::lab {

namespace {

constexpr auto kLeaderRefreshInterval = std::chrono::seconds(2);
constexpr auto kStopGrace = std::chrono::seconds(10);

void log_line(const std::string& line) {
  const auto now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%H:%M:%S", std::gmtime(&now));
  std::cerr << stamp << " supervisor: " << line << std::endl;
}

// Runs until a termination signal arrives, ticking the supervisor between.
void supervise_until_signalled(Supervisor& supervisor, LeaderWatcher& watcher, const sigset_t& signals) {
  const timespec tick{0, 250 * 1000 * 1000};
  auto next_refresh = std::chrono::steady_clock::now();
  while (true) {
    const int received = sigtimedwait(&signals, nullptr, &tick);
    if (received > 0) {
      log_line("signal " + std::to_string(received) + ": stopping the lab's processes");
      return;
    }
    supervisor.tick();
    if (std::chrono::steady_clock::now() >= next_refresh) {
      watcher.refresh();
      next_refresh = std::chrono::steady_clock::now() + kLeaderRefreshInterval;
    }
  }
}

}  // namespace

int lab_supervise(const LabLayout& layout) {
  // Its own session: Ctrl-C in the terminal that ran `lab up` must not stop the lab.
  ::setsid();
  sigset_t signals;
  sigemptyset(&signals);
  for (int signal_number : {SIGTERM, SIGINT, SIGHUP}) sigaddset(&signals, signal_number);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  {
    std::ofstream pidfile(layout.supervisor_pidfile(), std::ios::trunc);
    pidfile << ::getpid() << "\n";
  }
  const std::string self = std::filesystem::read_symlink("/proc/self/exe").string();
  ChildProcessLauncher children;
  ProcessCommandRunner runner;
  // Plain processes pass through it to `children`.
  ContainerLauncher launcher(runner, children);
  // `lab probe` stores extra probe flags; every probe start reads them.
  ProbeFlagsLauncher with_probe_flags(launcher, "probe", [&layout] { return load_probe_flags(layout); });
  SystemClock clock;
  Supervisor supervisor(lab_process_specs(layout, resolve_bin_dir(layout, self)), with_probe_flags, clock,
                        log_line);
  LeaderWatcher watcher(layout);
  log_line("starting the lab's processes");
  supervisor.start_all();
  supervise_until_signalled(supervisor, watcher, signals);
  supervisor.stop_all(kStopGrace);
  if (Status removed = launcher.remove_containers(); !removed.ok()) {
    log_line("cannot remove the broker containers (`chaos-lab down` retries): " + removed.message());
  }
  std::filesystem::remove(layout.supervisor_pidfile());
  log_line("stopped");
  return 0;
}

std::string resolve_bin_dir(const LabLayout& layout, const std::string& lab_binary_path) {
  if (!layout.params().bin_dir.empty()) return layout.params().bin_dir;
  return std::filesystem::path(lab_binary_path).parent_path().string();
}

}  // namespace chaos::lab
