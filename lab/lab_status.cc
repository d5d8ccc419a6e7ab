#include <iomanip>

#include "lab/lab_broker.h"
#include "lab/lab_containers.h"
#include "lab/lab_network.h"
#include "lab/lab_operations.h"
#include "lab/lab_processes.h"
#include "lab/lab_store.h"
#include "lab/experiment_probe_flags.h"
#include "lab/proc_scan.h"

namespace chaos::lab {

namespace {

std::string process_state(const ProcessSpec& spec) {
  auto pid = read_pidfile(spec.pidfile);
  if (pid && process_alive(*pid)) return "running (pid " + std::to_string(*pid) + ")";
  return "NOT RUNNING (log " + spec.logfile + ")";
}

void print_processes(const LabLayout& layout, std::ostream& out) {
  out << "processes:\n";
  for (const auto& spec : lab_process_specs(layout, "")) {
    out << "  " << std::left << std::setw(12) << spec.name << process_state(spec) << "\n";
  }
  auto flags = load_probe_flags(layout);
  out << "  " << std::left << std::setw(12) << "probe flags"
      << (flags.ok() ? describe_probe_flags(*flags) : "UNREADABLE: " + flags.status().message()) << "\n";
}

void print_stores(const LabLayout& layout, CommandRunner& runner, std::ostream& out) {
  out << "jetstream stores:\n";
  LabStore stores(layout, runner);
  constexpr double kMiB = 1024.0 * 1024.0;
  for (int node = 1; node <= layout.node_count(); ++node) {
    out << "  " << layout.node_name(node) << "  " << lab_store_dir(layout, node) << "  ";
    auto usage = stores.usage(node);
    if (!usage.ok()) {
      out << "NOT MOUNTED\n";
      continue;
    }
    out << std::fixed << std::setprecision(1) << usage->free_bytes / kMiB << " MiB free of "
        << usage->total_bytes / kMiB << " MiB\n";
  }
}

void print_urls(const LabLayout& layout, std::ostream& out) {
  out << "urls:\n";
  out << "  prometheus  " << layout.prometheus_url() << "\n";
  out << "  probe       http://" << layout.probe_metrics_address() << "/metrics\n";
  lab_broker(layout).print_urls(layout, out);
  out << "  inventory   " << layout.inventory_path() << "\n";
  out << "  logs        " << layout.path("logs") << "\n";
}

}  // namespace

Status lab_status(const LabLayout& layout, CommandRunner& runner, std::ostream& out) {
  auto supervisor = read_pidfile(layout.supervisor_pidfile());
  const bool supervised = supervisor && process_alive(*supervisor);
  LabNetwork network(layout, runner);
  auto namespaces = network.existing_namespaces();
  const std::size_t namespace_count = namespaces.ok() ? namespaces->size() : 0;
  if (!supervised && namespace_count == 0) {
    return not_found("lab " + layout.params().prefix + " is down (no supervisor, no namespaces)");
  }
  out << "lab " << layout.params().prefix << ": "
      << (supervised ? "up, supervisor pid " + std::to_string(*supervisor) : std::string("SUPERVISOR NOT RUNNING"))
      << "; bridge " << layout.bridge() << " " << layout.bridge_ip() << "/24; " << namespace_count
      << " namespaces";
  if (recorded_runtime(layout) == kRuntimePodman) {
    out << "; brokers in Podman containers " << layout.container_name(1) << "..";
  }
  out << "\n";
  const LabBroker& broker = lab_broker(layout);
  broker.print_status(layout, out);
  print_processes(layout, out);
  if (broker.uses_node_stores()) print_stores(layout, runner, out);
  print_urls(layout, out);
  if (!supervised) return unavailable("lab " + layout.params().prefix + " is partial: run `chaos-lab down`");
  return {};
}

}  // namespace chaos::lab
