#include "agent/agent_config.h"

#include <unistd.h>

#include <algorithm>

#include <CLI/CLI.hpp>
#include <fstream>
#include <sstream>
#include <toml++/toml.h>

#include "common/duration.h"
#include "proto/fault_kinds.h"

namespace chaos::agent {

namespace {

std::string where(const std::string& source, const toml::source_region& region) {
  return source + ":" + std::to_string(region.begin.line) + ":" + std::to_string(region.begin.column);
}

// Reads one TOML table, remembering the source for error messages.
class TableReader {
 public:
  // `prefix` ("policy.") makes every key in messages a full path.
  TableReader(const toml::table& table, std::string source, std::string prefix = "")
      : table_(table), source_(std::move(source)), prefix_(std::move(prefix)) {}

  Status error_at(const toml::node& node, const std::string& key, const std::string& message) const {
    return invalid_argument(where(source_, node.source()) + ": " + prefix_ + key + ": " + message);
  }

  Status read_string(const std::string& key, std::string& out) const {
    const toml::node* node = table_.get(key);
    if (node == nullptr) return {};
    if (!node->is_string()) return error_at(*node, key, "expected a string");
    out = **node->as_string();
    return {};
  }

  Status read_duration(const std::string& key, Duration& out) const {
    std::string text;
    CHAOS_RETURN_IF_ERROR(read_string(key, text));
    if (text.empty()) return {};
    auto parsed = parse_duration(text);
    if (!parsed.ok()) return error_at(*table_.get(key), key, parsed.status().message());
    if (parsed->count() < 0) return error_at(*table_.get(key), key, "must not be negative");
    out = *parsed;
    return {};
  }

  Status read_strings(const std::string& key, std::vector<std::string>& out) const {
    const toml::node* node = table_.get(key);
    if (node == nullptr) return {};
    const toml::array* array = node->as_array();
    if (array == nullptr) return error_at(*node, key, "expected an array of strings");
    out.clear();
    for (const toml::node& element : *array) {
      if (!element.is_string()) return error_at(element, key, "expected an array of strings");
      out.push_back(**element.as_string());
    }
    return {};
  }

  // Unknown keys are errors: a typo must not silently weaken the policy.
  Status reject_unknown(const std::vector<std::string>& known) const {
    for (const auto& [key, node] : table_) {
      const std::string name(key.str());
      if (std::find(known.begin(), known.end(), name) == known.end()) {
        return invalid_argument(where(source_, key.source()) + ": unknown key '" + prefix_ + name + "'");
      }
    }
    return {};
  }

  const toml::table& table() const { return table_; }
  const std::string& source() const { return source_; }

 private:
  const toml::table& table_;
  std::string source_;
  std::string prefix_;
};

Status read_labels(const TableReader& root, AgentConfig& config) {
  const toml::node* node = root.table().get("labels");
  if (node == nullptr) return {};
  const toml::table* labels = node->as_table();
  if (labels == nullptr) return root.error_at(*node, "labels", "expected a table of strings");
  for (const auto& [key, value] : *labels) {
    if (!value.is_string()) return root.error_at(value, "labels." + std::string(key.str()), "expected a string");
    config.labels[std::string(key.str())] = **value.as_string();
  }
  return {};
}

Status read_loss_limit(const TableReader& policy, Policy& out) {
  const toml::node* node = policy.table().get("max_loss_percent");
  if (node == nullptr) return {};
  if (!node->is_number()) return policy.error_at(*node, "max_loss_percent", "expected a number");
  const double value = node->value<double>().value_or(-1);
  if (value < 0 || value > 100) return policy.error_at(*node, "max_loss_percent", "must be within 0..100");
  out.max_loss_percent = value;
  return {};
}

// A limit that must be set to something within (0, ceiling].
Status read_bounded_duration(const TableReader& policy, const std::string& key, Duration& out) {
  CHAOS_RETURN_IF_ERROR(policy.read_duration(key, out));
  const toml::node* node = policy.table().get(key);
  if (node == nullptr) return {};
  if (out.count() == 0) return policy.error_at(*node, key, "must be positive (there is no unlimited)");
  if (out > kDurationCeiling) {
    return policy.error_at(*node, key, "must be at most " + format_duration(kDurationCeiling));
  }
  return {};
}

Status read_live_fault_limit(const TableReader& policy, Policy& out) {
  const toml::node* node = policy.table().get("max_live_faults");
  if (node == nullptr) return {};
  const auto value = node->value<std::int64_t>();
  if (!node->is_integer() || !value || *value < 1 || static_cast<std::uint64_t>(*value) > kLiveFaultsCeiling) {
    return policy.error_at(*node, "max_live_faults",
                           "expected a whole number from 1 to " + std::to_string(kLiveFaultsCeiling));
  }
  out.max_live_faults = static_cast<std::size_t>(*value);
  return {};
}

Status read_policy_kinds(const TableReader& policy, Policy& out) {
  CHAOS_RETURN_IF_ERROR(policy.read_strings("allowed_kinds", out.allowed_kinds));
  for (const auto& kind : out.allowed_kinds) {
    if (fault_kind_from_name(kind) == v1::FaultSpec::KIND_NOT_SET) {
      return policy.error_at(*policy.table().get("allowed_kinds"), "allowed_kinds",
                             "unknown fault kind '" + kind + "'");
    }
  }
  return {};
}

Status read_policy(const TableReader& root, Policy& out) {
  const toml::node* node = root.table().get("policy");
  if (node == nullptr) return {};
  const toml::table* table = node->as_table();
  if (table == nullptr) return root.error_at(*node, "policy", "expected a table");
  TableReader policy(*table, root.source(), "policy.");
  CHAOS_RETURN_IF_ERROR(policy.reject_unknown(
      {"allowed_kinds", "max_duration", "max_lease_ttl", "max_live_faults", "max_delay", "max_loss_percent",
       "protected_processes"}));
  CHAOS_RETURN_IF_ERROR(read_policy_kinds(policy, out));
  CHAOS_RETURN_IF_ERROR(read_bounded_duration(policy, "max_duration", out.max_duration));
  CHAOS_RETURN_IF_ERROR(read_bounded_duration(policy, "max_lease_ttl", out.max_lease_ttl));
  CHAOS_RETURN_IF_ERROR(read_live_fault_limit(policy, out));
  CHAOS_RETURN_IF_ERROR(policy.read_duration("max_delay", out.max_delay));
  CHAOS_RETURN_IF_ERROR(read_loss_limit(policy, out));
  CHAOS_RETURN_IF_ERROR(policy.read_strings("protected_processes", out.protected_processes));
  if (auto compiled = ProtectedProcesses::compile(out.protected_processes); !compiled.ok()) {
    return policy.error_at(*table->get("protected_processes"), "protected_processes",
                           compiled.status().message());
  }
  return {};
}

Status read_tls(const TableReader& root, TlsFiles& out) {
  const toml::node* node = root.table().get("tls");
  if (node == nullptr) return {};
  const toml::table* table = node->as_table();
  if (table == nullptr) return root.error_at(*node, "tls", "expected a table");
  TableReader tls(*table, root.source(), "tls.");
  CHAOS_RETURN_IF_ERROR(tls.reject_unknown({"cert", "key", "client_ca"}));
  CHAOS_RETURN_IF_ERROR(tls.read_string("cert", out.cert));
  CHAOS_RETURN_IF_ERROR(tls.read_string("key", out.key));
  CHAOS_RETURN_IF_ERROR(tls.read_string("client_ca", out.client_ca));
  if (Status complete = check_tls_files(out); !complete.ok()) {
    return invalid_argument(where(root.source(), node->source()) + ": tls: " + complete.message());
  }
  return {};
}

Status read_insecure_flag(const TableReader& root, bool& out) {
  const toml::node* node = root.table().get("insecure_plaintext_on_non_loopback");
  if (node == nullptr) return {};
  if (!node->is_boolean()) return root.error_at(*node, "insecure_plaintext_on_non_loopback", "expected true or false");
  out = **node->as_boolean();
  return {};
}

Status read_root(const TableReader& root, AgentConfig& config) {
  CHAOS_RETURN_IF_ERROR(root.reject_unknown({"listen", "metrics_listen", "node_name", "state_dir", "process_scope",
                                             "labels", "policy", "tls", "token_file",
                                             "insecure_plaintext_on_non_loopback"}));
  CHAOS_RETURN_IF_ERROR(read_tls(root, config.tls));
  CHAOS_RETURN_IF_ERROR(root.read_string("token_file", config.token_file));
  CHAOS_RETURN_IF_ERROR(read_insecure_flag(root, config.insecure_plaintext_on_non_loopback));
  CHAOS_RETURN_IF_ERROR(root.read_string("listen", config.listen));
  CHAOS_RETURN_IF_ERROR(root.read_string("metrics_listen", config.metrics_listen));
  CHAOS_RETURN_IF_ERROR(root.read_string("node_name", config.node_name));
  CHAOS_RETURN_IF_ERROR(root.read_string("state_dir", config.state_dir));
  std::string scope;
  CHAOS_RETURN_IF_ERROR(root.read_string("process_scope", scope));
  if (!scope.empty()) {
    auto parsed = parse_process_scope(scope);
    if (!parsed.ok()) return root.error_at(*root.table().get("process_scope"), "process_scope", parsed.status().message());
    config.process_scope = *parsed;
  }
  CHAOS_RETURN_IF_ERROR(read_labels(root, config));
  return read_policy(root, config.policy);
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

StatusOr<AgentConfig> parse_agent_config(const std::string& text, const std::string& source) {
  toml::table table;
  try {
    table = toml::parse(text, source);
  } catch (const toml::parse_error& error) {
    return invalid_argument(where(source, error.source()) + ": " + std::string(error.description()));
  }
  AgentConfig config;
  CHAOS_RETURN_IF_ERROR(read_root(TableReader(table, source), config));
  return config;
}

StatusOr<AgentConfig> load_agent_config(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return not_found(path + ": cannot open config file");
  std::ostringstream text;
  text << in.rdbuf();
  return parse_agent_config(text.str(), path);
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
