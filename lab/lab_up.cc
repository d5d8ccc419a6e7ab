#include <unistd.h>

#include <boost/process.hpp>
#include <filesystem>
#include <fstream>

#include "common/child_descriptors.h"
#include "common/command_runner.h"
#include "lab/broker_rootfs.h"
#include "lab/lab_broker.h"
#include "lab/lab_containers.h"
#include "lab/lab_files.h"
#include "lab/lab_network.h"
#include "lab/lab_operations.h"
#include "lab/lab_processes.h"
#include "lab/lab_store.h"
#include "lab/lab_tls.h"
#include "lab/proc_scan.h"
#include "lab/readiness.h"
#include "lab/stream_leader.h"

namespace chaos::lab {

namespace fs = std::filesystem;
namespace bp = boost::process;

namespace {

constexpr auto kServiceTimeout = std::chrono::seconds(60);

std::string find_program(const std::string& name) { return find_in_directories(name, kSystemProgramDirectories); }

bool podman_runtime(const LabLayout& layout) { return layout.params().runtime == kRuntimePodman; }

Status refuse_if_present(const LabLayout& layout, CommandRunner& runner) {
  if (auto pid = read_pidfile(layout.supervisor_pidfile()); pid && process_alive(*pid)) {
    return already_exists("lab " + layout.params().prefix + " is already up (supervisor pid " +
                          std::to_string(*pid) + "); `chaos-lab status` shows it, `chaos-lab down` removes it");
  }
  LabNetwork network(layout, runner);
  CHAOS_ASSIGN_OR_RETURN(auto namespaces, network.existing_namespaces());
  CHAOS_ASSIGN_OR_RETURN(auto links, network.existing_links());
  if (!namespaces.empty() || !links.empty()) {
    return failed_precondition("leftovers of an earlier lab " + layout.params().prefix + " (" +
                               std::to_string(namespaces.size()) + " namespaces, " + std::to_string(links.size()) +
                               " links); run `chaos-lab down` first");
  }
  // Containers outlive their namespaces; an earlier podman lab's may be left.
  const bool podman_lab = podman_runtime(layout) || recorded_runtime(layout) == kRuntimePodman;
  if (podman_lab && !find_program("podman").empty()) {
    CHAOS_ASSIGN_OR_RETURN(auto containers, existing_lab_containers(layout, runner));
    if (!containers.empty()) {
      return failed_precondition("leftovers of an earlier lab " + layout.params().prefix + " (" +
                                 std::to_string(containers.size()) + " containers, e.g. " + containers.front() +
                                 "); run `chaos-lab down` first");
    }
  }
  if (LabStore(layout, runner).any_mounted()) {
    return failed_precondition("a JetStream store of an earlier lab " + layout.params().prefix +
                               " is still mounted; run `chaos-lab down` first");
  }
  const fs::path state = layout.params().state_dir;
  std::error_code error;
  if (fs::exists(state) && !fs::is_empty(state, error) && !fs::exists(state / kStateMarker)) {
    return failed_precondition("state dir " + state.string() + " is not empty and not a lab's; choose another --state-dir");
  }
  return {};
}

Status check_programs(const LabLayout& layout, const std::string& bin_dir) {
  for (const std::string name : {"chaos-agent", "chaos-probe"}) {
    const fs::path program = fs::path(bin_dir) / name;
    if (::access(program.c_str(), X_OK) != 0) {
      return not_found(program.string() + " is missing: build it first (cmake --build build) or pass --bin-dir");
    }
  }
  for (const std::string name :
       {"ip", "dnsmasq", "prometheus", "openssl", "losetup", "mkfs.ext4", "mount", "umount"}) {
    if (find_program(name).empty()) return not_found(name + " is not installed: run scripts/install-deps");
  }
  CHAOS_RETURN_IF_ERROR(lab_broker(layout).check_installed());
  if (!podman_runtime(layout)) return {};
  for (const std::string name : {"podman", "runc", "busybox", "ldd"}) {
    if (find_program(name).empty()) {
      return not_found(name + " is not installed (needed by --runtime podman): run scripts/install-deps");
    }
  }
  return {};
}

Status write_file(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
  if (!out.flush()) return internal_error("cannot write " + path.string());
  return {};
}

Status prepare_state_dir(const LabLayout& layout) {
  const fs::path state = layout.params().state_dir;
  std::error_code error;
  fs::remove_all(state, error);  // only reached when empty or marked as ours
  for (const std::string sub : {"logs", "run", "prometheus"}) fs::create_directories(state / sub, error);
  for (int node = 1; node <= layout.node_count(); ++node) {
    fs::create_directories(fs::path(layout.node_dir(node)) / "agent", error);
  }
  if (error) return internal_error("cannot create state dir " + state.string() + ": " + error.message());
  CHAOS_RETURN_IF_ERROR(write_file(state / kStateMarker, "chaos lab " + layout.params().prefix + "\n"));
  // Before anything is started: a failed `up` tears down through `down`, which reads it.
  CHAOS_RETURN_IF_ERROR(write_file(layout.runtime_path(), layout.params().runtime + "\n"));
  CHAOS_RETURN_IF_ERROR(write_file(layout.broker_path(), layout.params().broker + "\n"));
  CHAOS_RETURN_IF_ERROR(lab_broker(layout).prepare(layout));
  CHAOS_RETURN_IF_ERROR(write_file(prometheus_config_path(layout), render_prometheus_config(layout)));
  CHAOS_RETURN_IF_ERROR(write_file(dns_hosts_path(layout), render_dns_hosts(layout)));
  if (!write_inventory(layout, "")) return internal_error("cannot write " + layout.inventory_path());
  return {};
}

std::vector<std::string> supervise_args(const LabLayout& layout, const std::string& bin_dir) {
  const LabParams& params = layout.params();
  return {"supervise", "--prefix", params.prefix, "--subnet", params.subnet, "--state-dir",
          params.state_dir, "--nodes", std::to_string(params.nodes), "--prometheus-port",
          std::to_string(params.prometheus_port), "--probe-port", std::to_string(params.probe_port),
          "--bin-dir", bin_dir, "--runtime", params.runtime, "--broker", params.broker};
}

// The supervisor outlives this command: detached, output to its log, no
// inherited stdout (a caller reading our output until EOF must not hang).
Status start_supervisor(const LabLayout& layout, const std::string& lab_binary_path, const std::string& bin_dir) {
  const std::string log = layout.logfile("supervisor");
  std::error_code error;
  bp::child child(lab_binary_path, bp::args(supervise_args(layout, bin_dir)), bp::std_in < bp::null,
                  bp::std_out > log, bp::std_err > log, error, InheritOnlyStandardStreams{});
  if (error) return unavailable("cannot start the lab supervisor (" + lab_binary_path + "): " + error.message());
  child.detach();
  return {};
}

Status supervisor_started(const LabLayout& layout) {
  auto pid = read_pidfile(layout.supervisor_pidfile());
  if (pid && process_alive(*pid)) return {};
  return unavailable("no supervisor pidfile yet; see " + layout.logfile("supervisor"));
}

Status wait_for_services(const LabLayout& layout, CommandRunner& runner, Clock& clock, std::ostream& out) {
  CHAOS_RETURN_IF_ERROR(wait_until(clock, std::chrono::seconds(10), "supervisor", [&] { return supervisor_started(layout); }));
  CHAOS_RETURN_IF_ERROR(lab_broker(layout).wait_until_ready(layout, runner, clock, out));
  for (int node = 1; node <= layout.node_count(); ++node) {
    CHAOS_RETURN_IF_ERROR(wait_until(clock, kServiceTimeout, "chaos-agent " + layout.node_name(node) + " (log " +
                                     layout.logfile("agent-" + layout.node_name(node)) + ")",
                                     [&] { return agent_serving_metrics(layout, node); }));
  }
  out << "lab: chaos-agent serving on every node\n" << std::flush;
  CHAOS_RETURN_IF_ERROR(wait_until(clock, kServiceTimeout, "chaos-probe (log " + layout.logfile("probe") + ")",
                                   [&] { return probe_publishing(layout); }));
  out << "lab: chaos-probe publishing\n" << std::flush;
  CHAOS_RETURN_IF_ERROR(wait_until(clock, kServiceTimeout, "Prometheus (log " + layout.logfile("prometheus") + ")",
                                   [&] { return prometheus_scraping_probe(layout); }));
  out << "lab: Prometheus scraping at " << layout.prometheus_url() << "\n" << std::flush;
  // Experiments check their steady state first thing: "up" means it holds.
  CHAOS_RETURN_IF_ERROR(wait_until(clock, kServiceTimeout, "probe steady state (log " + layout.logfile("probe") + ")",
                                   [&] { return probe_in_steady_state(layout); }));
  out << "lab: probe steady (>= 99% of publishes acknowledged over 10 s)\n" << std::flush;
  // The supervisor writes the leader's label every 2 s: an experiment run
  // right after `up` that targets the leader must find it.
  CHAOS_RETURN_IF_ERROR(wait_until(
      clock, kServiceTimeout, "the leader's label in the inventory (log " + layout.logfile("supervisor") + ")",
      [&] { return inventory_labels_a_leader(layout, lab_broker(layout).leader_label()); }));
  out << "lab: inventory labels the " << lab_broker(layout).leader_label() << "\n" << std::flush;
  return {};
}

Status bring_up(const LabLayout& layout, CommandRunner& runner, Clock& clock, std::ostream& out,
                const std::string& lab_binary_path, const std::string& bin_dir) {
  CHAOS_RETURN_IF_ERROR(prepare_state_dir(layout));
  out << "lab: state in " << layout.params().state_dir << "\n" << std::flush;
  if (lab_broker(layout).uses_node_stores()) {
    CHAOS_RETURN_IF_ERROR(LabStore(layout, runner).create_all());
    out << "lab: JetStream stores on " << kLabStoreBytes / (1024 * 1024) << " MiB ext4 loop devices in "
        << lab_store_dir(layout, 1) << ".." << "\n" << std::flush;
  }
  CHAOS_RETURN_IF_ERROR(create_lab_certificates(layout, runner));
  out << "lab: mTLS certificates in " << lab_certs_dir(layout) << "\n" << std::flush;
  if (podman_runtime(layout)) {
    CHAOS_RETURN_IF_ERROR(build_broker_rootfs(layout, runner, find_program("nats-server"),
                                              find_program("busybox")));
    out << "lab: broker containers' root filesystem in " << layout.rootfs_dir() << "\n" << std::flush;
  }
  LabNetwork network(layout, runner);
  CHAOS_RETURN_IF_ERROR(network.create().with_context("lab network"));
  out << "lab: bridge " << layout.bridge() << " " << layout.bridge_ip() << "/24 with " << layout.node_count()
      << " node namespaces\n" << std::flush;
  CHAOS_RETURN_IF_ERROR(start_supervisor(layout, lab_binary_path, bin_dir));
  out << "lab: supervisor starting dnsmasq, " << layout.params().broker << " nodes"
      << (podman_runtime(layout) ? " (Podman containers)" : "")
      << ", chaos-agent, Prometheus and chaos-probe\n" << std::flush;
  return wait_for_services(layout, runner, clock, out);
}

}  // namespace

Status lab_up(const LabLayout& layout, CommandRunner& runner, Clock& clock, std::ostream& out,
              const std::string& lab_binary_path) {
  if (::geteuid() != 0) return permission_denied("lab up: must run as root (network namespaces, bridge)");
  CHAOS_RETURN_IF_ERROR(refuse_if_present(layout, runner));
  const std::string bin_dir = resolve_bin_dir(layout, lab_binary_path);
  CHAOS_RETURN_IF_ERROR(check_programs(layout, bin_dir));
  const SteadyTime started = clock.steady_now();
  Status status = bring_up(layout, runner, clock, out, lab_binary_path, bin_dir);
  if (!status.ok()) {
    out << "lab: up failed: " << status.message() << "\nlab: tearing down; logs stay in "
        << layout.path("logs") << "\n" << std::flush;
    (void)lab_down(layout, runner, clock, out, /*keep_state=*/true);
    return status;
  }
  const auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(clock.steady_now() - started);
  out << "lab: up in " << elapsed.count() / 1000.0 << " s\n\n" << std::flush;
  return lab_status(layout, runner, out);
}

}  // namespace chaos::lab
