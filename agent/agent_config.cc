#include "agent/agent_config.h"

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <fstream>
#include <tuple>

#include "common/duration.h"
#include "common/toml_reader.h"
#include "proto/fault_kinds.h"

namespace chaos::agent {

namespace {

constexpr std::size_t kMaxUnixSocketPath = 107;

void read_policy_kinds(TableReader& policy, Policy& out) {
  auto kinds = policy.string_list("allowed_kinds");
  if (!kinds) return;
  for (const auto& kind : *kinds) {
    if (fault_kind_from_name(kind) == v1::FaultSpec::KIND_NOT_SET) {
      policy.error_at_key("allowed_kinds", "unknown fault kind '" + kind + "'");
      return;
    }
  }
  out.allowed_kinds = std::move(*kinds);
}

// A limit that must be set to something within (0, ceiling].
void read_bounded_duration(TableReader& policy, const std::string& key, Duration& out) {
  auto value = policy.duration(key, false, DurationLimits{true, kDurationCeiling});
  if (!value) return;
  if (value->count() == 0) {
    policy.error_at_key(key, "must be positive (there is no unlimited)");
    return;
  }
  out = *value;
}

void read_loss_limit(TableReader& policy, Policy& out) {
  auto value = policy.number("max_loss_percent");
  if (!value) return;
  if (*value < 0 || *value > 100) {
    policy.error_at_key("max_loss_percent", "must be within 0..100");
    return;
  }
  out.max_loss_percent = *value;
}

// At most this many mount points, each an absolute path.
constexpr std::size_t kMaxDiskFillProtected = 64;
constexpr std::size_t kMaxDiskFillProtectedPath = 4096;

void read_disk_fill_protected(TableReader& policy, Policy& out) {
  auto mounts = policy.string_list("disk_fill_protected");
  if (!mounts) return;
  if (mounts->size() > kMaxDiskFillProtected) {
    policy.error_at_key("disk_fill_protected", "at most " + std::to_string(kMaxDiskFillProtected) + " mount points");
    return;
  }
  for (auto& mount : *mounts) {
    if (mount.empty() || mount.front() != '/' || mount.size() > kMaxDiskFillProtectedPath) {
      policy.error_at_key("disk_fill_protected", "'" + mount + "' is not an absolute path of at most " +
                                                     std::to_string(kMaxDiskFillProtectedPath) + " bytes");
      return;
    }
    while (mount.size() > 1 && mount.back() == '/') mount.pop_back();
  }
  out.disk_fill_protected = std::move(*mounts);
}

// stress.memory's ceilings: bytes up to 1 TiB, a percent of MemAvailable.
void read_memory_limits(TableReader& policy, Policy& out) {
  if (auto bytes = policy.integer("max_memory_bytes", 1, int64_t{1} << 40)) {
    out.max_memory_bytes = static_cast<std::uint64_t>(*bytes);
  }
  auto percent = policy.number("max_memory_percent");
  if (!percent) return;
  if (!(*percent > 0 && *percent <= 100)) {
    policy.error_at_key("max_memory_percent", "must be within (0, 100]");
    return;
  }
  out.max_memory_percent = *percent;
}

void read_policy(TableReader& root, Policy& out) {
  const toml::table* table = root.table("policy");
  if (table == nullptr) return;
  TableReader policy(*table, "policy", root.diagnostics());
  read_policy_kinds(policy, out);
  read_bounded_duration(policy, "max_duration", out.max_duration);
  read_bounded_duration(policy, "max_lease_ttl", out.max_lease_ttl);
  if (auto live = policy.integer("max_live_faults", 1, static_cast<int64_t>(kLiveFaultsCeiling))) {
    out.max_live_faults = static_cast<std::size_t>(*live);
  }
  if (auto delay = policy.duration("max_delay", false, DurationLimits{true, {}})) out.max_delay = *delay;
  read_loss_limit(policy, out);
  read_disk_fill_protected(policy, out);
  read_memory_limits(policy, out);
  if (auto patterns = policy.string_list("protected_processes")) {
    if (auto compiled = ProtectedProcesses::compile(*patterns); !compiled.ok()) {
      policy.error_at_key("protected_processes", compiled.status().message());
    } else {
      out.protected_processes = std::move(*patterns);
    }
  }
  policy.reject_unknown_keys();
}

void read_tls(TableReader& root, TlsFiles& out) {
  const toml::table* table = root.table("tls");
  if (table == nullptr) return;
  TableReader tls(*table, "tls", root.diagnostics());
  out.cert = tls.string("cert").value_or(out.cert);
  out.key = tls.string("key").value_or(out.key);
  out.client_ca = tls.string("client_ca").value_or(out.client_ca);
  tls.reject_unknown_keys();
  if (Status complete = check_tls_files(out); !complete.ok()) root.error_at_key("tls", complete.message());
}

// A unix socket path: absolute, and short enough for sun_path (108 bytes
// with its NUL), so a typo is caught at start rather than at first inject.
// "" when the path is usable (empty: runtime off).
std::string socket_path_problem(const std::string& path) {
  if (!path.empty() && path.front() != '/') return "must be an absolute path (or empty: runtime off)";
  if (path.size() > kMaxUnixSocketPath) {
    return "at most " + std::to_string(kMaxUnixSocketPath) + " bytes (a unix socket path)";
  }
  if (path.find('\0') != std::string::npos) return "contains a NUL byte";
  return "";
}

void read_socket_path(TableReader& containers, const std::string& key, std::string& out) {
  auto path = containers.string(key);
  if (!path) return;
  if (const std::string problem = socket_path_problem(*path); !problem.empty()) {
    containers.error_at_key(key, problem);
    return;
  }
  out = std::move(*path);
}

void read_containers(TableReader& root, ContainerSockets& out) {
  const toml::table* table = root.table("containers");
  if (table == nullptr) return;
  TableReader containers(*table, "containers", root.diagnostics());
  read_socket_path(containers, "podman_socket", out.podman_socket);
  read_socket_path(containers, "docker_socket", out.docker_socket);
  read_socket_path(containers, "containerd_socket", out.containerd_socket);
  if (auto cgroup_root = containers.string("cgroup_root")) {
    if (!cgroup_root->empty() && cgroup_root->front() != '/') {
      containers.error_at_key("cgroup_root", "must be an absolute path");
    } else {
      out.cgroup_root = std::move(*cgroup_root);
    }
  }
  containers.reject_unknown_keys();
}

void read_proxy(TableReader& root, AgentConfig& config) {
  const toml::table* table = root.table("proxy");
  if (table == nullptr) return;
  TableReader proxy(*table, "proxy", root.diagnostics());
  if (auto bytes = proxy.integer("max_buffered_bytes", static_cast<int64_t>(kMinProxyMaxBufferedBytes),
                                 static_cast<int64_t>(kMaxProxyMaxBufferedBytes))) {
    config.proxy_max_buffered_bytes = static_cast<std::size_t>(*bytes);
  }
  proxy.reject_unknown_keys();
}

void read_root(TableReader& root, AgentConfig& config) {
  read_tls(root, config.tls);
  read_containers(root, config.containers);
  read_proxy(root, config);
  config.token_file = root.string("token_file").value_or(config.token_file);
  config.insecure_plaintext_on_non_loopback =
      root.boolean("insecure_plaintext_on_non_loopback").value_or(config.insecure_plaintext_on_non_loopback);
  config.listen = root.string("listen").value_or(config.listen);
  config.metrics_listen = root.string("metrics_listen").value_or(config.metrics_listen);
  config.node_name = root.string("node_name").value_or(config.node_name);
  config.state_dir = root.string("state_dir").value_or(config.state_dir);
  if (auto scope = root.string("process_scope")) {
    auto parsed = parse_process_scope(*scope);
    if (parsed.ok()) {
      config.process_scope = *parsed;
    } else {
      root.error_at_key("process_scope", parsed.status().message());
    }
  }
  if (auto labels = root.string_map("labels")) config.labels = std::move(*labels);
  read_policy(root, config.policy);
  root.reject_unknown_keys();
}

std::string hostname() {
  char name[256] = {};
  if (::gethostname(name, sizeof(name) - 1) != 0) return "localhost";
  return name;
}

}  // namespace

Status check_tls_files(const TlsFiles& tls) {
  if (!tls.enabled()) return {};
  std::string missing;
  if (tls.cert.empty()) missing += " cert (--tls-cert)";
  if (tls.key.empty()) missing += " key (--tls-key)";
  if (tls.client_ca.empty()) missing += " client CA (--tls-client-ca)";
  if (missing.empty()) return {};
  return invalid_argument("mTLS needs a certificate, its key and the client CA; missing:" + missing);
}

const char* process_scope_name(ProcessScope scope) { return scope == ProcessScope::kNetns ? "netns" : "all"; }

StatusOr<ProcessScope> parse_process_scope(const std::string& text) {
  if (text == "all") return ProcessScope::kAll;
  if (text == "netns") return ProcessScope::kNetns;
  return invalid_argument("expected 'all' or 'netns', got '" + text + "'");
}

namespace {

StatusOr<AgentConfig> read_config(const std::optional<toml::table>& table, Diagnostics& diagnostics) {
  AgentConfig config;
  if (table) {
    TableReader root(*table, "", diagnostics);
    read_root(root, config);
  }
  CHAOS_RETURN_IF_ERROR(diagnostics.to_status());
  return config;
}

}  // namespace

StatusOr<AgentConfig> parse_agent_config(const std::string& text, const std::string& source) {
  Diagnostics diagnostics(source);
  const auto table = parse_toml(text, diagnostics);
  return read_config(table, diagnostics);
}

StatusOr<AgentConfig> load_agent_config(const std::string& path) {
  if (!std::ifstream(path)) return not_found(path + ": cannot open config file");
  Diagnostics diagnostics(path);
  const auto table = parse_toml_file(path, diagnostics);
  return read_config(table, diagnostics);
}

Status add_label(const std::string& assignment, std::map<std::string, std::string>& labels) {
  const auto equals = assignment.find('=');
  if (equals == std::string::npos || equals == 0) {
    return invalid_argument("--label: expected key=value, got '" + assignment + "'");
  }
  labels[assignment.substr(0, equals)] = assignment.substr(equals + 1);
  return {};
}

AgentFlagSet::AgentFlagSet(CLI::App& app) : app_(app) {
  app.add_option("--config", config_file_, "TOML config file; flags given on the command line override it");
  app.add_option("--listen", flag_values_.listen, "gRPC listen address HOST:PORT (port 0: any free port)")
      ->capture_default_str();
  app.add_option("--metrics-listen", flag_values_.metrics_listen, "Prometheus /metrics address HOST:PORT")
      ->capture_default_str();
  app.add_option("--node-name", flag_values_.node_name, "Node name reported to chaosctl (default: hostname)");
  app.add_option("--label", labels_, "Node label key=value (repeatable)");
  app.add_option("--state-dir", flag_values_.state_dir, "Directory for the fault journal")->capture_default_str();
  app.add_option("--process-scope", process_scope_,
                 "Processes that process faults may target: all, or netns (only this network namespace)")
      ->default_str("all");
  app.add_option("--podman-socket", flag_values_.containers.podman_socket,
                 "Podman API socket for container targets ([containers] podman_socket)")
      ->group("Containers");
  app.add_option("--docker-socket", flag_values_.containers.docker_socket,
                 "Docker API socket for container targets ([containers] docker_socket)")
      ->group("Containers");
  app.add_option("--containerd-socket", flag_values_.containers.containerd_socket,
                 "containerd gRPC socket for container targets ([containers] containerd_socket)")
      ->group("Containers");
  app.add_option("--cgroup-root", flag_values_.containers.cgroup_root,
                 "Where container.pause finds the host's cgroups ([containers] cgroup_root; default: found at "
                 "start)")
      ->group("Containers");
  app.add_option("--tls-cert", flag_values_.tls.cert, "Server certificate (PEM); enables mTLS")
      ->group("Security");
  app.add_option("--tls-key", flag_values_.tls.key, "Private key of --tls-cert (PEM)")->group("Security");
  app.add_option("--tls-client-ca", flag_values_.tls.client_ca,
                 "CA certificate (PEM) every client certificate must chain to")
      ->group("Security");
  app.add_option("--token-file", flag_values_.token_file,
                 "File with a bearer token every request must carry (in addition to mTLS)")
      ->group("Security");
  app.add_flag("--insecure-plaintext-on-non-loopback", insecure_plaintext_,
               "DANGEROUS: serve gRPC without TLS on a non-loopback address (isolated test networks only)")
      ->group("Security");
}

StatusOr<AgentConfig> AgentFlagSet::resolve() const {
  AgentConfig config;
  if (app_.count("--config") > 0) {
    CHAOS_ASSIGN_OR_RETURN(config, load_agent_config(config_file_));
  }
  if (app_.count("--listen") > 0) config.listen = flag_values_.listen;
  if (app_.count("--metrics-listen") > 0) config.metrics_listen = flag_values_.metrics_listen;
  if (app_.count("--node-name") > 0) config.node_name = flag_values_.node_name;
  if (app_.count("--state-dir") > 0) config.state_dir = flag_values_.state_dir;
  if (app_.count("--process-scope") > 0) {
    auto scope = parse_process_scope(process_scope_);
    if (!scope.ok()) return scope.status().with_context("--process-scope");
    config.process_scope = *scope;
  }
  for (const auto& label : labels_) CHAOS_RETURN_IF_ERROR(add_label(label, config.labels));
  for (const auto& [flag, value, target] :
       {std::tuple{"--podman-socket", &flag_values_.containers.podman_socket, &config.containers.podman_socket},
        std::tuple{"--docker-socket", &flag_values_.containers.docker_socket, &config.containers.docker_socket},
        std::tuple{"--containerd-socket", &flag_values_.containers.containerd_socket,
                   &config.containers.containerd_socket}}) {
    if (app_.count(flag) == 0) continue;
    if (const std::string problem = socket_path_problem(*value); !problem.empty()) {
      return invalid_argument(std::string(flag) + ": " + problem);
    }
    *target = *value;
  }
  if (app_.count("--cgroup-root") > 0) {
    if (flag_values_.containers.cgroup_root.empty() || flag_values_.containers.cgroup_root.front() != '/') {
      return invalid_argument("--cgroup-root: must be an absolute path");
    }
    config.containers.cgroup_root = flag_values_.containers.cgroup_root;
  }
  if (app_.count("--tls-cert") > 0) config.tls.cert = flag_values_.tls.cert;
  if (app_.count("--tls-key") > 0) config.tls.key = flag_values_.tls.key;
  if (app_.count("--tls-client-ca") > 0) config.tls.client_ca = flag_values_.tls.client_ca;
  if (app_.count("--token-file") > 0) config.token_file = flag_values_.token_file;
  if (insecure_plaintext_) config.insecure_plaintext_on_non_loopback = true;
  CHAOS_RETURN_IF_ERROR(check_tls_files(config.tls));
  if (config.node_name.empty()) config.node_name = hostname();
  return config;
}

}  // namespace chaos::agent
