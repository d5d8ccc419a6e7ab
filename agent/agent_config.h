// The agent's configuration: a TOML file (--config) with command-line flags
// on top. Every config error names its place in the file (path:line:col).
//
//   listen = "127.0.0.1:9700"            # gRPC
//   metrics_listen = "127.0.0.1:9701"    # /metrics
//   node_name = "node-1"                 # default: hostname
//   state_dir = "/var/lib/chaos-agent"   # journal lives in <state_dir>/journal
//   process_scope = "all"                # or "netns"
//   token_file = "/etc/chaos-agent/token"   # optional bearer token (0600)
//   insecure_plaintext_on_non_loopback = false
//   [tls]                                # mTLS: all three or none
//   cert = "/etc/chaos-agent/tls/agent.crt"
//   key = "/etc/chaos-agent/tls/agent.key"
//   client_ca = "/etc/chaos-agent/tls/ca.crt"
//   [labels]
//   zone = "a"
//   [policy]
//   allowed_kinds = ["process.kill", "network.delay"]   # default: all
//   max_duration = "10m"                 # default 1h; at most 30 days
//   max_lease_ttl = "5m"                 # default 10m
//   max_live_faults = 64                 # default 256
//   max_delay = "2s"
//   max_loss_percent = 50
//   protected_processes = ["^sshd$", "^systemd"]
//   [containers]                         # container targets (FaultSpec.target)
//   podman_socket = "/run/podman/podman.sock"   # empty or absent: runtime off
//   docker_socket = "/run/docker.sock"
//   containerd_socket = "/run/containerd/containerd.sock"
//   cgroup_root = "/sys/fs/cgroup"       # where container.pause finds the host's cgroups
//   [proxy]                              # the tcp.*, http.*, nats.* faults' proxy
//   max_buffered_bytes = 67108864        # all of them together; default 64 MiB
#pragma once

#include <map>
#include <string>
#include <vector>

#include "agent/policy.h"
#include "common/status.h"

namespace CLI {
class App;
}

namespace chaos::agent {

const char* process_scope_name(ProcessScope scope);
StatusOr<ProcessScope> parse_process_scope(const std::string& text);

// Server certificate and the CA that client certificates must chain to.
struct TlsFiles {
  std::string cert;
  std::string key;
  std::string client_ca;
  bool enabled() const { return !cert.empty() || !key.empty() || !client_ca.empty(); }
};

// The API sockets of the container runtimes on this host (Docker Engine
// API for podman and docker, containerd's gRPC API); an empty path leaves
// that runtime off (selectors naming it are refused).
struct ContainerSockets {
  std::string podman_socket;
  std::string docker_socket;
  std::string containerd_socket;
  bool any() const { return !podman_socket.empty() || !docker_socket.empty() || !containerd_socket.empty(); }
  // Where container.pause finds the host's cgroup file systems; empty: found
  // at start (/sys/fs/cgroup, or through pid 1's root when the agent's own
  // mount namespace hides them).
  std::string cgroup_root;
};

// What the proxy faults (tcp.*, http.*, nats.*) may hold in memory, all
// together: bytes queued in their connections and held by their filters.
// 64 MiB by default: a nats.delay of 1 s over 50 MB/s of matching messages
// fits; more is the node owner's choice.
inline constexpr std::size_t kDefaultProxyMaxBufferedBytes = std::size_t{64} << 20;
inline constexpr std::size_t kMinProxyMaxBufferedBytes = std::size_t{1} << 20;
inline constexpr std::size_t kMaxProxyMaxBufferedBytes = std::size_t{64} << 30;

struct AgentConfig {
  std::string listen = "127.0.0.1:9700";
  std::string metrics_listen = "127.0.0.1:9701";
  std::string node_name;  // empty until resolved: the hostname
  std::map<std::string, std::string> labels;
  std::string state_dir = "/var/lib/chaos-agent";
  ProcessScope process_scope = ProcessScope::kAll;
  Policy policy;
  TlsFiles tls;
  std::string token_file;
  ContainerSockets containers;
  std::size_t proxy_max_buffered_bytes = kDefaultProxyMaxBufferedBytes;
  // Plaintext gRPC on a non-loopback address; only for isolated networks.
  bool insecure_plaintext_on_non_loopback = false;
};

// All three TLS files or none; INVALID_ARGUMENT naming what is missing.
Status check_tls_files(const TlsFiles& tls);

// Parses TOML text; `source` names it in errors ("agent.toml:3:1: ...").
StatusOr<AgentConfig> parse_agent_config(const std::string& text, const std::string& source);
StatusOr<AgentConfig> load_agent_config(const std::string& path);

// "key=value" into `labels`; INVALID_ARGUMENT naming the flag otherwise.
Status add_label(const std::string& assignment, std::map<std::string, std::string>& labels);

// The agent's flags on a CLI11 app. After app.parse(), resolve() loads
// --config (if given) and lays every flag given on the command line on top.
class AgentFlagSet {
 public:
  explicit AgentFlagSet(CLI::App& app);
  StatusOr<AgentConfig> resolve() const;

 private:
  CLI::App& app_;
  std::string config_file_;
  AgentConfig flag_values_;
  std::string process_scope_;
  std::vector<std::string> labels_;
  bool insecure_plaintext_ = false;
};

}  // namespace chaos::agent
