// Where everything of one lab lives: names (namespaces, bridge, links),
// addresses, ports and paths in the state directory. Every other lab module
// derives what it touches from a LabLayout, so tests can run a small lab
// under another prefix, subnet and state dir without colliding with a
// user's lab.
#pragma once

#include <string>

#include "common/status.h"

namespace chaos::lab {

struct LabParams {
  std::string prefix = "chaoslab";       // namespaces <prefix>-nX, bridge <prefix>0
  std::string subnet = "10.77.0";        // first three octets of a /24
  std::string state_dir = "/run/chaos-lab";
  std::string bin_dir;                   // chaos-agent and chaos-probe; default: next to chaosctl
  int nodes = 3;
  // Where `ip netns exec` looks for per-namespace /etc files; tests only.
  std::string netns_etc_root = "/etc/netns";
  int prometheus_port = 19090;           // on the host's loopback
  int probe_port = 19800;                // chaos-probe /metrics on the host's loopback
  // How the brokers run: kRuntimeProcess (nats-server under `ip netns exec`)
  // or kRuntimePodman (one Podman container per node in its namespace).
  std::string runtime = "process";
  // Which broker the nodes run: kBrokerNats (JetStream) or kBrokerRabbitmq
  // (quorum queues). `up` records it in the state dir; the other commands
  // read it back (lab/lab_broker.h).
  std::string broker = "nats";
};

inline constexpr const char* kRuntimeProcess = "process";
inline constexpr const char* kRuntimePodman = "podman";
inline constexpr const char* kBrokerNats = "nats";
inline constexpr const char* kBrokerRabbitmq = "rabbitmq";

// Ports inside every node's namespace (fixed: the namespaces are separate).
inline constexpr int kAgentPort = 9700;
inline constexpr int kAgentMetricsPort = 9701;
inline constexpr int kNatsClientPort = 4222;
inline constexpr int kNatsClusterPort = 6222;
inline constexpr int kNatsMonitorPort = 8222;
inline constexpr int kMaxNodes = 9;
// The node's end of its veth; experiments name it in `interface = "eth0"`.
inline constexpr const char* kNodeInterface = "eth0";
inline constexpr const char* kDomain = "lab";
// Marks a state dir as a lab's, so `down` may delete it and `up` reuse it.
inline constexpr const char* kStateMarker = ".chaos-lab";
inline constexpr const char* kStreamName = "CHAOS_PROBE";
inline constexpr const char* kStreamSubject = "chaos.probe";

class LabLayout {
 public:
  // Refuses parameters that would produce invalid or colliding names.
  static StatusOr<LabLayout> create(LabParams params);

  const LabParams& params() const { return params_; }
  int node_count() const { return params_.nodes; }

  std::string node_name(int node) const;    // "n1"
  std::string node_host(int node) const;    // "n1.lab"
  std::string netns(int node) const;        // "chaoslab-n1"
  std::string host_link(int node) const;    // "chaoslab-v1": host end of the veth
  std::string bridge() const;               // "chaoslab0"
  std::string bridge_ip() const;            // "10.77.0.1"
  std::string node_ip(int node) const;      // "10.77.0.11"
  std::string cidr() const;                 // "10.77.0.0/24"

  std::string nats_urls() const;            // "nats://10.77.0.11:4222,..."
  std::string prometheus_url() const;       // "http://127.0.0.1:19090"
  std::string probe_metrics_address() const;  // "127.0.0.1:19800"

  // Paths in the state directory.
  std::string path(const std::string& relative) const;
  std::string node_dir(int node) const;
  std::string pidfile(const std::string& process) const;
  std::string logfile(const std::string& process) const;
  std::string inventory_path() const;
  std::string supervisor_pidfile() const;
  // The runtime `up` used, so `down` knows whether containers are left to remove.
  std::string runtime_path() const;
  // The broker `up` started, so `status`, `down` and `probe` know it.
  std::string broker_path() const;
  // Podman flavour: the brokers' root filesystem and container names.
  std::string rootfs_dir() const;              // "<state>/rootfs"
  std::string container_name(int node) const;  // "chaoslab-nats-1"
  // /etc/netns/<ns>: files here are bind-mounted over /etc by `ip netns exec`.
  std::string netns_etc_dir(int node) const;

 private:
  explicit LabLayout(LabParams params) : params_(std::move(params)) {}
  LabParams params_;
};

}  // namespace chaos::lab
