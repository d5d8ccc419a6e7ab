// `chaosctl inventory from-kubernetes`: the inventory of a chaos-agent
// DaemonSet from `kubectl get pods -o json` (kubernetes_inventory.h), so
// chaosctl itself never needs cluster credentials. `from-prometheus`: the
// agents Prometheus scrapes in one job (prometheus_discovery.h).
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>
#include <memory>

#include "orchestrator/commands/commands.h"
#include "orchestrator/commands/exit_codes.h"
#include "orchestrator/commands/kubernetes_inventory.h"
#include "orchestrator/commands/prometheus_discovery.h"

namespace chaos::orchestrator {

namespace {

struct FromKubernetesFlags {
  std::string pods_json;
  KubernetesInventoryOptions options;
};

// At most kMaxPodsJsonBytes + 1 bytes, so an endless stream stops early and
// the generator reports the size.
StatusOr<std::string> read_bounded(std::istream& in, const std::string& name) {
  std::string text(kMaxPodsJsonBytes + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  if (in.bad()) return invalid_argument(name + ": read failed: " + std::strerror(errno));
  text.resize(static_cast<size_t>(in.gcount()));
  return text;
}

StatusOr<std::string> read_pods_json(const std::string& path) {
  if (path == "-") return read_bounded(std::cin, "stdin");
  std::ifstream file(path, std::ios::binary);
  if (!file) return not_found(path + ": cannot open: " + std::strerror(errno));
  return read_bounded(file, path);
}

int run_from_kubernetes(const FromKubernetesFlags& flags) {
  auto text = read_pods_json(flags.pods_json);
  if (!text.ok()) {
    std::cerr << "chaosctl: inventory from-kubernetes: " << text.status().message() << "\n";
    return kExitError;
  }
  auto inventory = inventory_from_pods_json(*text, flags.options);
  if (!inventory.ok()) {
    std::cerr << "chaosctl: inventory from-kubernetes: " << inventory.status().message() << "\n";
    return kExitError;
  }
  for (const std::string& warning : inventory->warnings) {
    std::cerr << "chaosctl: inventory from-kubernetes: warning: " << warning << "\n";
  }
  std::cout << inventory->toml << std::flush;
  return std::cout ? kExitOk : kExitError;
}

struct FromPrometheusFlags {
  InventoryDiscovery discovery;
  std::string address_from = "label";
  double timeout_seconds = 10;
  std::string prometheus_token_file;
  PrometheusInventoryOptions options;
};

int run_from_prometheus(FromPrometheusFlags& flags) {
  flags.discovery.address_from_metric = flags.address_from == "metric";
  flags.discovery.timeout = std::chrono::milliseconds(static_cast<long long>(flags.timeout_seconds * 1000));
  if (!flags.prometheus_token_file.empty()) {
    auto token = read_secret_file(flags.prometheus_token_file, "--prometheus-token-file");
    if (!token.ok()) {
      std::cerr << "chaosctl: inventory from-prometheus: " << token.status().message() << "\n";
      return kExitError;
    }
    flags.discovery.endpoint.bearer_token = *token;
  }
  auto found = discover_agents_at(flags.discovery);
  if (!found.ok()) {
    std::cerr << "chaosctl: inventory from-prometheus: " << flags.discovery.prometheus << " job "
              << flags.discovery.job << ": " << found.status().message() << "\n";
    return kExitError;
  }
  for (const std::string& warning : found->warnings) {
    std::cerr << "chaosctl: inventory from-prometheus: warning: " << warning << "\n";
  }
  std::cout << prometheus_inventory_toml(found->agents, flags.discovery, flags.options) << std::flush;
  return std::cout ? kExitOk : kExitError;
}

void add_from_prometheus(CLI::App& inventory, int& exit_code) {
  auto flags = std::make_shared<FromPrometheusFlags>();
  CLI::App* command = inventory.add_subcommand(
      "from-prometheus",
      "Print the inventory of the agents one Prometheus job scrapes (its /api/v1/targets: file_sd,\n"
      "Kubernetes, Consul, EC2, ... discovery). Each target names its agent's gRPC address in a\n"
      "target label (--address-label) or through the agent's chaos_agent_info metric\n"
      "(--address-from metric). Targets skipped, down or listed twice are warned about on stderr.\n"
      "For an inventory that follows the fleet at every run, write a [discovery] table instead.");
  command->add_option("--prometheus", flags->discovery.prometheus, "Prometheus base URL, e.g. http://10.0.0.5:9090")
      ->required();
  command->add_option("--prometheus-ca", flags->discovery.endpoint.ca_file,
                      "CA file that signed an https:// Prometheus's certificate")
      ->check(CLI::ExistingFile);
  command->add_option("--prometheus-token-file", flags->prometheus_token_file,
                      "File holding a bearer token for Prometheus (https, or loopback)")
      ->check(CLI::ExistingFile);
  command->add_option("--job", flags->discovery.job, "The scrape pool (job) of the agents")->required();
  command->add_option("--address-label", flags->discovery.address_label, "Target label holding HOST:PORT")
      ->capture_default_str();
  command->add_option("--address-from", flags->address_from, "label or metric (chaos_agent_info{grpc_address})")
      ->check(CLI::IsMember({"label", "metric"}))
      ->capture_default_str();
  command->add_option("--node-label", flags->discovery.node_label, "Target label holding the node name "
                      "(default when absent: the instance's host)")
      ->capture_default_str();
  command->add_option("--timeout", flags->timeout_seconds, "Seconds per Prometheus request")
      ->check(CLI::Range(0.001, 300.0))
      ->capture_default_str();
  command->add_option("--tls-ca", flags->options.tls_ca, "[tls] ca of the inventory (with --tls-cert, --tls-key)");
  command->add_option("--tls-cert", flags->options.tls_cert, "[tls] cert: chaosctl's client certificate");
  command->add_option("--tls-key", flags->options.tls_key, "[tls] key of --tls-cert");
  command->callback([flags, &exit_code] { exit_code = run_from_prometheus(*flags); });
}

}  // namespace

void add_inventory_command(CLI::App& app, int& exit_code) {
  CLI::App* inventory = app.add_subcommand("inventory", "Write agent inventories");
  inventory->require_subcommand(1);
  auto flags = std::make_shared<FromKubernetesFlags>();

  CLI::App* from_kubernetes = inventory->add_subcommand(
      "from-kubernetes",
      "Print the inventory of the chaos-agent DaemonSet (one agent per node) from\n"
      "  kubectl get pods -n chaos -l app.kubernetes.io/name=chaos-agent -o json\n"
      "Pods not Running and Ready are skipped with a warning on stderr.");
  from_kubernetes->add_option("--pods-json", flags->pods_json, "The pod list as JSON: a file, or - for stdin")
      ->required();
  from_kubernetes->add_option("--port", flags->options.port, "The agents' gRPC port (hostNetwork)")
      ->check(CLI::Range(1, 65535))
      ->capture_default_str();
  from_kubernetes->add_option("--server-name", flags->options.server_name,
                              "Every agent's TLS server name (a certificate shared by the DaemonSet); "
                              "default: each node's name");
  from_kubernetes->add_option("--tls-ca", flags->options.tls_ca, "[tls] ca of the inventory (with --tls-cert, --tls-key)");
  from_kubernetes->add_option("--tls-cert", flags->options.tls_cert, "[tls] cert: chaosctl's client certificate");
  from_kubernetes->add_option("--tls-key", flags->options.tls_key, "[tls] key of --tls-cert");
  from_kubernetes->callback([flags, &exit_code] { exit_code = run_from_kubernetes(*flags); });
  add_from_prometheus(*inventory, exit_code);
}

}  // namespace chaos::orchestrator
