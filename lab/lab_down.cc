#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <set>

#include "lab/lab_containers.h"
#include "lab/lab_network.h"
#include "lab/lab_operations.h"
#include "lab/lab_processes.h"
#include "lab/lab_store.h"
#include "lab/proc_scan.h"

namespace chaos::lab {

namespace fs = std::filesystem;

namespace {

constexpr auto kSupervisorGrace = std::chrono::seconds(15);
constexpr auto kKillGrace = std::chrono::seconds(5);

bool is_supervisor(int pid, const LabLayout& layout) {
  const auto argv = process_cmdline(pid);
  bool supervise = false;
  bool ours = false;
  for (std::size_t i = 0; i < argv.size(); ++i) {
    supervise = supervise || argv[i] == "supervise";
    ours = ours || (argv[i] == "--state-dir" && i + 1 < argv.size() && argv[i + 1] == layout.params().state_dir);
  }
  return supervise && ours;
}

std::vector<int> supervisor_pids(const LabLayout& layout) {
  std::set<int> pids;
  if (auto pid = read_pidfile(layout.supervisor_pidfile()); pid && process_alive(*pid) && is_supervisor(*pid, layout)) {
    pids.insert(*pid);
  }
  // "chaosctl": a supervisor started by a chaosctl from before chaos-lab was
  // its own binary must still be found and stopped.
  for (const char* program : {"chaos-lab", "chaosctl"}) {
    for (int pid : find_processes(program, layout.params().state_dir)) {
      if (is_supervisor(pid, layout)) pids.insert(pid);
    }
  }
  return {pids.begin(), pids.end()};
}

void wait_for_exit(Clock& clock, const std::vector<int>& pids, Duration grace) {
  const SteadyTime deadline = clock.steady_now() + grace;
  auto anyone_alive = [&] {
    for (int pid : pids) {
      if (process_alive(pid)) return true;
    }
    return false;
  };
  while (anyone_alive() && clock.steady_now() < deadline) {
    clock.sleep_until(clock.steady_now() + std::chrono::milliseconds(100));
  }
}

void signal_all(const std::vector<int>& pids, int signal_number) {
  for (int pid : pids) ::kill(pid, signal_number);
}

// The supervisor stops its children gracefully (brokers flush, agents
// revert their faults); SIGKILL only if it does not finish in time.
void stop_supervisor(const LabLayout& layout, Clock& clock, std::ostream& out) {
  const auto pids = supervisor_pids(layout);
  if (pids.empty()) return;
  out << "lab: stopping the supervisor and its processes\n" << std::flush;
  signal_all(pids, SIGTERM);
  wait_for_exit(clock, pids, kSupervisorGrace);
  signal_all(pids, SIGKILL);
}

// Whatever survived (a crashed supervisor's orphans, a partial up).
void kill_leftover_processes(const LabLayout& layout, LabNetwork& network, Clock& clock, std::ostream& out) {
  std::set<int> pids;
  for (const auto& spec : lab_process_specs(layout, "")) {
    for (int pid : find_processes(spec.program, spec.marker)) pids.insert(pid);
  }
  // A podman lab's API service, also when this `down` was not given
  // --runtime podman (the specs above follow this command's flags, not the
  // up's, and a crashed supervisor cannot say which runtime it ran).
  for (int pid : find_processes("podman", podman_api_socket_path(layout))) pids.insert(pid);
  // Everything inside a lab namespace is the lab's by construction.
  if (auto namespaces = network.existing_namespaces(); namespaces.ok()) {
    for (const auto& ns : *namespaces) {
      if (auto inside = network.namespace_pids(ns); inside.ok()) pids.insert(inside->begin(), inside->end());
    }
  }
  pids.erase(static_cast<int>(::getpid()));
  if (pids.empty()) return;
  out << "lab: killing " << pids.size() << " leftover processes\n" << std::flush;
  const std::vector<int> list(pids.begin(), pids.end());
  signal_all(list, SIGTERM);
  wait_for_exit(clock, list, kKillGrace);
  signal_all(list, SIGKILL);
  wait_for_exit(clock, list, kKillGrace);
}

Status remove_state(const LabLayout& layout, bool keep_state) {
  const fs::path state = layout.params().state_dir;
  std::error_code error;
  if (keep_state) {
    fs::remove_all(state / "run", error);
    return {};
  }
  if (!fs::exists(state / kStateMarker)) return {};  // never delete a directory that is not ours
  fs::remove_all(state, error);
  if (error) return internal_error("cannot remove state dir " + state.string() + ": " + error.message());
  return {};
}

}  // namespace

Status lab_down(const LabLayout& layout, CommandRunner& runner, Clock& clock, std::ostream& out, bool keep_state) {
  if (::geteuid() != 0) return permission_denied("lab down: must run as root (network namespaces, bridge)");
  LabNetwork network(layout, runner);
  stop_supervisor(layout, clock, out);
  // The supervisor removes its containers when it stops; after a crash they
  // are still there (running or exited) and hold their namespace.
  Status container_status;
  if (may_have_containers(layout)) {
    auto removed = remove_lab_containers(layout, runner);
    container_status = removed.status();
    if (removed.ok() && *removed > 0) {
      out << "lab: removed the " << *removed << " Podman containers of " << layout.params().prefix << "\n"
          << std::flush;
    }
  }
  kill_leftover_processes(layout, network, clock, out);
  // After every process is gone (nothing holds the stores busy), before
  // the state dir goes: removing it over a mounted store would empty the store.
  Status store_status = LabStore(layout, runner).destroy();
  Status network_status = network.destroy();
  out << "lab: removed namespaces, links and /etc/netns entries of " << layout.params().prefix << "\n" << std::flush;
  // The runtime record goes with the state: only when the containers are gone.
  Status state_status =
      container_status.ok() && store_status.ok() ? remove_state(layout, keep_state) : Status{};
  if (!container_status.ok()) return container_status.with_context("lab down");
  if (!store_status.ok()) return store_status.with_context("lab down");
  if (!network_status.ok()) return network_status.with_context("lab down");
  if (!state_status.ok()) return state_status.with_context("lab down");
  out << "lab: down" << (keep_state ? " (state kept in " + layout.params().state_dir + ")" : "") << "\n" << std::flush;
  return {};
}

}  // namespace chaos::lab
