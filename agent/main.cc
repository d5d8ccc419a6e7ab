// chaos-agent: the node agent. Serves /metrics and (issue 3) the
// chaos.v1.Agent gRPC service; runs until SIGINT/SIGTERM.
#include <csignal>
#include <iostream>
#include <string>

#include <CLI/CLI.hpp>

#include "common/version.h"
#include "metrics/metrics_server.h"
#include "metrics/registry.h"

namespace {

struct AgentFlags {
  std::string listen = "127.0.0.1:9700";
  std::string metrics_listen = "127.0.0.1:9701";
  std::string node_name;
  std::string state_dir = "/var/lib/chaos-agent";
};

int wait_for_termination_signal() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  int received = 0;
  sigwait(&signals, &received);
  return received;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"chaos-agent: injects network, DNS and process faults on this node on command "
               "from chaosctl, and reverts every one of them when its time is up."};
  app.set_version_flag("--version", std::string("chaos-agent ") + chaos::kVersion);
  AgentFlags flags;
  app.add_option("--listen", flags.listen, "gRPC listen address HOST:PORT")->capture_default_str();
  app.add_option("--metrics-listen", flags.metrics_listen, "Prometheus /metrics address HOST:PORT")
      ->capture_default_str();
  app.add_option("--node-name", flags.node_name, "Node name reported to chaosctl (default: hostname)");
  app.add_option("--state-dir", flags.state_dir, "Directory for the fault journal")->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  // Block the termination signals before any thread starts so that every
  // thread inherits the mask and sigwait() below is the only receiver.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  chaos::metrics::Registry registry;
  registry.gauge("chaos_agent_build_info", "Agent version; the value is always 1.", {"version"})
      .with({chaos::kVersion})
      .set(1);

  auto metrics_address = chaos::metrics::split_host_port(flags.metrics_listen, "--metrics-listen");
  if (!metrics_address.ok()) {
    std::cerr << "chaos-agent: " << metrics_address.status().message() << "\n";
    return 2;
  }
  chaos::metrics::MetricsServer metrics_server(registry);
  if (auto status = metrics_server.start(metrics_address->first, metrics_address->second); !status.ok()) {
    std::cerr << "chaos-agent: " << status.message() << "\n";
    return 1;
  }
  std::cerr << "chaos-agent " << chaos::kVersion << ": metrics on " << metrics_address->first << ":"
            << metrics_server.port() << "/metrics\n";
  const int signal_number = wait_for_termination_signal();
  std::cerr << "chaos-agent: received signal " << signal_number << ", shutting down\n";
  metrics_server.stop();
  return 0;
}
