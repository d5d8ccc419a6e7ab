// `lab probe`: restarts the lab's chaos-probe with extra flags. The
// supervisor owns the probe process; this command only stores the flags
// (which the supervisor's launcher appends at every start), stops the
// running probe and watches the supervisor's restart become steady.
#include <signal.h>
#include <unistd.h>

#include <deque>
#include <filesystem>
#include <fstream>

#include "lab/experiment_probe_flags.h"
#include "lab/lab_operations.h"
#include "lab/proc_scan.h"
#include "lab/rabbitmq/rabbitmq_config.h"
#include "lab/readiness.h"

namespace chaos::lab {

namespace {

// The supervisor notices an exit within a tick and restarts after 2 s.
constexpr auto kProbeRestartTimeout = std::chrono::seconds(20);
constexpr auto kProbeReadyTimeout = std::chrono::seconds(60);
// The steady-state window (readiness.cc) must hold only the new probe's samples.
constexpr auto kSteadyWindow = std::chrono::seconds(10);
constexpr std::size_t kLogTailLines = 12;

const char* kProbeName = "probe";

bool ends_with_flags(const std::vector<std::string>& argv, const std::vector<std::string>& flags) {
  return argv.size() > flags.size() && std::equal(flags.rbegin(), flags.rend(), argv.rbegin());
}

// A pid from the probe's pidfile that really is this lab's chaos-probe.
std::optional<int> running_probe(const LabLayout& layout) {
  auto pid = read_pidfile(layout.pidfile(kProbeName));
  if (!pid || !process_alive(*pid)) return std::nullopt;
  if (!cmdline_matches(process_cmdline(*pid), "chaos-probe", layout.probe_metrics_address())) return std::nullopt;
  return pid;
}

std::uintmax_t log_size(const std::string& path) {
  std::error_code error;
  const auto size = std::filesystem::file_size(path, error);
  return error ? 0 : size;
}

// The last lines the probe wrote since `offset` (its log is appended to).
std::string log_tail_since(const std::string& path, std::uintmax_t offset) {
  std::ifstream in(path);
  in.seekg(static_cast<std::streamoff>(offset));
  std::deque<std::string> lines;
  std::string line;
  while (std::getline(in, line)) {
    lines.push_back("  | " + line);
    if (lines.size() > kLogTailLines) lines.pop_front();
  }
  std::string text;
  for (const auto& kept : lines) text += kept + "\n";
  return text.empty() ? "  | (nothing)\n" : text;
}

// The pid the supervisor started after `old_pid`: alive with the new flags,
// or dead (it exited at once; the caller shows why).
StatusOr<int> wait_for_restart(const LabLayout& layout, Clock& clock, std::optional<int> old_pid,
                               const std::vector<std::string>& flags) {
  std::optional<int> started;
  CHAOS_RETURN_IF_ERROR(wait_until(clock, kProbeRestartTimeout, "supervisor restarting chaos-probe", [&]() -> Status {
    auto pid = read_pidfile(layout.pidfile(kProbeName));
    if (!pid || pid == old_pid) return unavailable("no new chaos-probe pid in " + layout.pidfile(kProbeName));
    if (process_alive(*pid) && !ends_with_flags(process_cmdline(*pid), flags)) {
      return unavailable("chaos-probe pid " + std::to_string(*pid) + " does not run with the new flags");
    }
    started = pid;
    return {};
  }));
  return *started;
}

// wait_until, but a probe that exits is a failure at once, not a timeout.
Status wait_while_alive(Clock& clock, int pid, Duration timeout, const std::string& what, const ReadinessCheck& check) {
  const SteadyTime deadline = clock.steady_now() + timeout;
  while (true) {
    if (!process_alive(pid)) return aborted("chaos-probe pid " + std::to_string(pid) + " exited");
    Status last = check();
    if (last.ok()) return {};
    if (clock.steady_now() >= deadline) {
      return deadline_exceeded(what + ": not ready after " +
                               std::to_string(std::chrono::duration_cast<std::chrono::seconds>(timeout).count()) +
                               " s: " + last.message());
    }
    clock.sleep_until(clock.steady_now() + std::chrono::milliseconds(250));
  }
}

std::int64_t epoch_seconds(const Clock& clock) {
  return std::chrono::duration_cast<std::chrono::seconds>(clock.wall_now().time_since_epoch()).count();
}

Status wait_until_steady(const LabLayout& layout, Clock& clock, std::ostream& out, int pid) {
  const std::int64_t started = epoch_seconds(clock);
  const std::string log = " (log " + layout.logfile(kProbeName) + ")";
  CHAOS_RETURN_IF_ERROR(wait_while_alive(clock, pid, kProbeReadyTimeout, "chaos-probe" + log,
                                         [&] { return probe_publishing(layout); }));
  const std::string destination = layout.params().broker == kBrokerRabbitmq
                                      ? std::string("quorum queue ") + kProbeQueue
                                      : std::string("stream ") + kStreamName;
  out << "lab: chaos-probe publishing to " << destination << "\n" << std::flush;
  CHAOS_RETURN_IF_ERROR(wait_while_alive(clock, pid, kProbeReadyTimeout, "Prometheus scraping the new probe",
                                         [&] { return prometheus_scraped_probe_since(layout, started); }));
  out << "lab: Prometheus scraping the new probe at " << layout.prometheus_url() << "\n" << std::flush;
  const SteadyTime window_full = clock.steady_now() + kSteadyWindow;
  CHAOS_RETURN_IF_ERROR(wait_while_alive(clock, pid, kProbeReadyTimeout, "probe steady state" + log, [&]() -> Status {
    if (clock.steady_now() < window_full) return unavailable("the new probe has not had 10 s of samples yet");
    return probe_in_steady_state(layout);
  }));
  out << "lab: probe steady (>= 99% of publishes acknowledged over 10 s)\n" << std::flush;
  return {};
}

Status require_lab_up(const LabLayout& layout) {
  auto supervisor = read_pidfile(layout.supervisor_pidfile());
  if (supervisor && process_alive(*supervisor)) return {};
  return not_found("lab " + layout.params().prefix + " is not up (no supervisor in " + layout.supervisor_pidfile() +
                   "); run `chaosctl lab up` first");
}

std::string already_running_line(const std::vector<std::string>& flags) {
  if (flags.empty()) return "lab: standard probe already running\n";
  return "lab: probe already running with " + describe_probe_flags(flags) + "\n";
}

// The new probe exited: put the previous flags back for the supervisor's next restart.
Status probe_exited(const LabLayout& layout, std::ostream& out, const Status& exited, std::uintmax_t log_offset,
                    const std::vector<std::string>& requested, const std::vector<std::string>& previous) {
  out << "lab: chaos-probe exited; the end of its log:\n"
      << log_tail_since(layout.logfile(kProbeName), log_offset) << std::flush;
  if (Status restored = save_probe_flags(layout, previous); !restored.ok()) {
    out << "lab: cannot restore the previous flags: " << restored.message() << "\n" << std::flush;
  } else {
    out << "lab: the supervisor restarts it with the previous flags " << describe_probe_flags(previous) << "\n"
        << std::flush;
  }
  return failed_precondition(exited.message() + " with the extra flags " + describe_probe_flags(requested) +
                             "; see " + layout.logfile(kProbeName));
}

Status restart_probe(const LabLayout& layout, Clock& clock, std::ostream& out, const std::vector<std::string>& flags,
                     const std::vector<std::string>& previous) {
  const std::optional<int> old_pid = read_pidfile(layout.pidfile(kProbeName));
  const std::uintmax_t log_offset = log_size(layout.logfile(kProbeName));
  CHAOS_RETURN_IF_ERROR(save_probe_flags(layout, flags));
  out << "lab: restarting chaos-probe with extra flags " << describe_probe_flags(flags) << "\n" << std::flush;
  // The supervisor sees the exit and starts the probe with the stored flags.
  if (auto running = running_probe(layout)) ::kill(*running, SIGTERM);
  auto pid = wait_for_restart(layout, clock, old_pid, flags);
  if (!pid.ok()) return pid.status().with_context("lab probe");
  out << "lab: chaos-probe restarted (pid " << *pid << ")\n" << std::flush;
  Status ready = wait_until_steady(layout, clock, out, *pid);
  if (ready.code() == StatusCode::kAborted) return probe_exited(layout, out, ready, log_offset, flags, previous);
  return ready.with_context("lab probe");
}

}  // namespace

Status lab_probe(const LabLayout& layout, Clock& clock, std::ostream& out, const std::vector<std::string>& flags) {
  if (::geteuid() != 0) return permission_denied("lab probe: must run as root (the lab's probe runs as root)");
  CHAOS_RETURN_IF_ERROR(check_probe_flags(flags, layout.params().broker, "lab probe"));
  CHAOS_RETURN_IF_ERROR(require_lab_up(layout));
  CHAOS_ASSIGN_OR_RETURN(auto previous, load_probe_flags(layout));
  auto running = running_probe(layout);
  if (previous == flags && running && ends_with_flags(process_cmdline(*running), flags)) {
    out << already_running_line(flags) << std::flush;
    return {};
  }
  const SteadyTime started = clock.steady_now();
  CHAOS_RETURN_IF_ERROR(restart_probe(layout, clock, out, flags, previous));
  const auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(clock.steady_now() - started);
  out << "lab: probe restarted in " << elapsed.count() / 1000.0 << " s\n" << std::flush;
  return {};
}

}  // namespace chaos::lab
