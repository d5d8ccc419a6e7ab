#include "lab/lab_processes.h"

#include <unistd.h>


#include "lab/lab_broker.h"
#include "lab/lab_containers.h"
#include "lab/lab_tls.h"

namespace chaos::lab {

namespace {

std::string port_suffix(int port) { return ":" + std::to_string(port); }

ProcessSpec spec(const LabLayout& layout, const std::string& name, std::string program, std::string marker,
                 std::vector<std::string> argv) {
  return ProcessSpec{name,           std::move(program),    std::move(marker),
                     std::move(argv), layout.logfile(name), layout.pidfile(name),
                     std::chrono::milliseconds(2000), ""};
}

// `ip netns exec` execs the program in place, so the pid the supervisor
// sees is the program's own and signals reach it directly. It also
// bind-mounts /etc/netns/<ns>/resolv.conf so the node uses the lab's DNS.
std::vector<std::string> in_namespace(const std::string& netns, std::vector<std::string> argv) {
  std::vector<std::string> wrapped = {"ip", "netns", "exec", netns};
  wrapped.insert(wrapped.end(), argv.begin(), argv.end());
  return wrapped;
}

ProcessSpec dnsmasq_spec(const LabLayout& layout) {
  return spec(layout, "dnsmasq", "dnsmasq", dns_hosts_path(layout),
              {"dnsmasq", "--keep-in-foreground", "--conf-file=/dev/null", "--no-resolv", "--no-hosts",
               "--addn-hosts=" + dns_hosts_path(layout), "--listen-address=" + layout.bridge_ip(),
               "--bind-interfaces", "--local=/" + std::string(kDomain) + "/", "--domain-needed",
               "--pid-file=", "--log-facility=-", "--user=root"});
}

}  // namespace

ProcessSpec nats_process_spec(const LabLayout& layout, int node) {
  if (layout.params().runtime == kRuntimePodman) {
    ProcessSpec broker = spec(layout, "nats-" + layout.node_name(node), "nats-server", nats_config_path(layout, node),
                              nats_container_run_argv(layout, node, broker_nofile_limit()));
    broker.container = layout.container_name(node);
    return broker;
  }
  return spec(layout, "nats-" + layout.node_name(node), "nats-server", nats_config_path(layout, node),
              in_namespace(layout.netns(node), {"nats-server", "--config", nats_config_path(layout, node)}));
}

namespace {

// The Docker-compatible API the agents resolve container targets through
// (--podman-socket): a podman lab's brokers can be targeted by name or label.
ProcessSpec podman_api_spec(const LabLayout& layout) {
  std::vector<std::string> argv = podman_command();
  argv.insert(argv.end(), {"system", "service", "--time=0", "unix://" + podman_api_socket_path(layout)});
  return spec(layout, "podman-api", "podman", podman_api_socket_path(layout), std::move(argv));
}

ProcessSpec agent_spec(const LabLayout& layout, int node, const std::string& bin_dir) {
  const std::string ip = layout.node_ip(node);
  const std::string name = layout.node_name(node);
  std::vector<std::string> argv = {bin_dir + "/chaos-agent", "--listen", ip + port_suffix(kAgentPort),
                                   "--metrics-listen", ip + port_suffix(kAgentMetricsPort), "--node-name", name,
                                   "--state-dir", layout.node_dir(node) + "/agent", "--process-scope", "netns",
                                   "--label", "role=broker", "--label", "name=" + name};
  // `ip netns exec` gives the agent a fresh /sys without the cgroup file
  // systems; container.pause, disk.throttle and placed stress.* reach them through the
  // supervisor's root (the specs are built in the supervisor, which outlives
  // its agents).
  argv.insert(argv.end(), {"--cgroup-root", "/proc/" + std::to_string(::getpid()) + "/root/sys/fs/cgroup"});
  if (layout.params().runtime == kRuntimePodman) {
    argv.insert(argv.end(), {"--podman-socket", podman_api_socket_path(layout)});
  }
  const auto tls = agent_tls_args(layout, node);  // mTLS: the agents listen on the bridge
  argv.insert(argv.end(), tls.begin(), tls.end());
  return spec(layout, "agent-" + name, "chaos-agent", layout.node_dir(node) + "/agent",
              in_namespace(layout.netns(node), std::move(argv)));
}

ProcessSpec prometheus_spec(const LabLayout& layout) {
  return spec(layout, "prometheus", "prometheus", prometheus_config_path(layout),
              {"prometheus", "--config.file=" + prometheus_config_path(layout),
               "--storage.tsdb.path=" + layout.path("prometheus"),
               "--web.listen-address=127.0.0.1" + port_suffix(layout.params().prometheus_port),
               "--storage.tsdb.retention.time=6h", "--log.level=warn"});
}

ProcessSpec probe_spec(const LabLayout& layout, const std::string& bin_dir) {
  std::vector<std::string> argv = {bin_dir + "/chaos-probe"};
  const auto broker_args = lab_broker(layout).probe_args(layout);
  argv.insert(argv.end(), broker_args.begin(), broker_args.end());
  argv.insert(argv.end(), {"--metrics-listen", layout.probe_metrics_address()});
  return spec(layout, "probe", "chaos-probe", layout.probe_metrics_address(), std::move(argv));
}

}  // namespace

std::string nats_config_path(const LabLayout& layout, int node) {
  return layout.node_dir(node) + "/nats-server.conf";
}
std::string prometheus_config_path(const LabLayout& layout) { return layout.path("prometheus.yml"); }
std::string dns_hosts_path(const LabLayout& layout) { return layout.path("dns-hosts"); }
std::string podman_api_socket_path(const LabLayout& layout) { return layout.path("podman-api.sock"); }

std::vector<ProcessSpec> lab_process_specs(const LabLayout& layout, const std::string& bin_dir) {
  std::vector<ProcessSpec> specs = {dnsmasq_spec(layout)};
  const LabBroker& broker = lab_broker(layout);
  for (int node = 1; node <= layout.node_count(); ++node) specs.push_back(broker.node_process(layout, node));
  if (layout.params().runtime == kRuntimePodman) specs.push_back(podman_api_spec(layout));
  for (int node = 1; node <= layout.node_count(); ++node) specs.push_back(agent_spec(layout, node, bin_dir));
  specs.push_back(prometheus_spec(layout));
  specs.push_back(probe_spec(layout, bin_dir));
  return specs;
}

}  // namespace chaos::lab
