#include "orchestrator/commands/kubernetes_inventory.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <optional>
#include <set>

#include <nlohmann/json.hpp>

#include "common/printable_text.h"

namespace chaos::orchestrator {

namespace {

using nlohmann::json;

struct ReadyAgent {
  std::string pod;  // namespace/name, for messages
  std::string node;
  std::string address;
  std::map<std::string, std::string> labels;
};

// Labels that change with every rollout and mean nothing to a selector.
const std::set<std::string, std::less<>> kRolloutLabels = {"controller-revision-hash", "pod-template-generation"};

const json* member(const json& object, const char* key) {
  if (!object.is_object()) return nullptr;
  auto found = object.find(key);
  return found == object.end() ? nullptr : &*found;
}

StatusOr<std::string> string_at(const json& object, const char* key, const std::string& where) {
  const json* value = member(object, key);
  if (value == nullptr || !value->is_string() || value->get_ref<const std::string&>().empty()) {
    return invalid_argument(where + "." + key + ": expected a non-empty string");
  }
  return value->get<std::string>();
}

// "Running" plus the Ready condition "True"; empty when ready, else why not.
std::string why_not_ready(const json& pod) {
  const json* metadata = member(pod, "metadata");
  if (metadata != nullptr && member(*metadata, "deletionTimestamp") != nullptr) return "being deleted";
  const json* status = member(pod, "status");
  const json* phase = status == nullptr ? nullptr : member(*status, "phase");
  const std::string phase_text = phase != nullptr && phase->is_string() ? phase->get<std::string>() : "unknown";
  if (phase_text != "Running") return "phase " + phase_text;
  const json* conditions = member(*status, "conditions");
  if (conditions != nullptr && conditions->is_array()) {
    for (const json& condition : *conditions) {
      const json* type = member(condition, "type");
      const json* value = member(condition, "status");
      if (type != nullptr && *type == "Ready") return value != nullptr && *value == "True" ? "" : "not Ready";
    }
  }
  return "not Ready";
}

StatusOr<std::string> agent_address(const std::string& host_ip, int port, const std::string& where) {
  unsigned char buffer[16];
  if (inet_pton(AF_INET, host_ip.c_str(), buffer) == 1) return host_ip + ":" + std::to_string(port);
  if (inet_pton(AF_INET6, host_ip.c_str(), buffer) == 1) return "[" + host_ip + "]:" + std::to_string(port);
  return invalid_argument(where + ".status.hostIP: '" + host_ip + "' is not an IP address");
}

StatusOr<std::map<std::string, std::string>> pod_labels(const json& metadata, const std::string& where) {
  std::map<std::string, std::string> labels;
  const json* found = member(metadata, "labels");
  if (found == nullptr) return labels;
  if (!found->is_object()) return invalid_argument(where + ".metadata.labels: expected an object");
  for (const auto& [key, value] : found->items()) {
    if (!value.is_string()) return invalid_argument(where + ".metadata.labels." + key + ": expected a string");
    if (kRolloutLabels.count(key) == 0) labels[key] = value.get<std::string>();
  }
  return labels;
}

// nullopt (with a warning) for a pod that is not serving; an error for one
// that cannot be a pod.
StatusOr<std::optional<ReadyAgent>> read_pod(const json& pod, const std::string& where, int port,
                                             std::vector<std::string>& warnings) {
  if (!pod.is_object()) return invalid_argument(where + ": expected a pod object");
  const json* metadata = member(pod, "metadata");
  if (metadata == nullptr || !metadata->is_object()) return invalid_argument(where + ".metadata: missing");
  CHAOS_ASSIGN_OR_RETURN(const std::string name, string_at(*metadata, "name", where + ".metadata"));
  const json* pod_namespace = member(*metadata, "namespace");
  const std::string qualified =
      (pod_namespace != nullptr && pod_namespace->is_string() ? pod_namespace->get<std::string>() + "/" : "") + name;
  const std::string reason = why_not_ready(pod);
  if (!reason.empty()) {
    warnings.push_back("skipping pod " + qualified + ": " + reason);
    return std::optional<ReadyAgent>();
  }
  const std::string pod_where = where + " (pod " + qualified + ")";
  ReadyAgent agent;
  agent.pod = qualified;
  const json* spec = member(pod, "spec");
  CHAOS_ASSIGN_OR_RETURN(agent.node, string_at(spec == nullptr ? json() : *spec, "nodeName", pod_where + ".spec"));
  CHAOS_ASSIGN_OR_RETURN(const std::string host_ip, string_at(*member(pod, "status"), "hostIP", pod_where + ".status"));
  CHAOS_ASSIGN_OR_RETURN(agent.address, agent_address(host_ip, port, pod_where));
  CHAOS_ASSIGN_OR_RETURN(agent.labels, pod_labels(*metadata, pod_where));
  return std::optional<ReadyAgent>(std::move(agent));
}

StatusOr<std::vector<json>> pod_objects(std::string_view text) {
  if (text.size() > kMaxPodsJsonBytes) {
    return invalid_argument("pods JSON: " + std::to_string(text.size()) + " bytes, more than the limit of " +
                            std::to_string(kMaxPodsJsonBytes));
  }
  json root;
  try {
    root = json::parse(text);
  } catch (const json::exception& error) {
    return invalid_argument(std::string("pods JSON: ") + error.what());
  }
  if (!root.is_object()) return invalid_argument("pods JSON: expected an object (a List of Pods or a Pod)");
  const json* kind = member(root, "kind");
  if (kind != nullptr && *kind == "Pod") return std::vector<json>{root};
  const json* items = member(root, "items");
  if (items == nullptr || !items->is_array()) {
    return invalid_argument("pods JSON: expected \"items\": [...] (kubectl get pods -o json)");
  }
  if (items->size() > kMaxPods) {
    return invalid_argument("pods JSON: " + std::to_string(items->size()) + " pods, more than the limit of " +
                            std::to_string(kMaxPods));
  }
  return items->get<std::vector<json>>();
}

std::string render(const std::vector<ReadyAgent>& agents, const KubernetesInventoryOptions& options) {
  std::string out = "# Written by `chaosctl inventory from-kubernetes`: one chaos-agent per node.\n";
  if (!options.tls_ca.empty()) {
    out += "[tls]\nca = " + toml_quoted(options.tls_ca) + "\ncert = " + toml_quoted(options.tls_cert) +
           "\nkey = " + toml_quoted(options.tls_key) + "\n";
  }
  for (const ReadyAgent& agent : agents) {
    out += "\n[[agents]]  # pod " + printable_text(agent.pod) + "\n";
    out += "address = " + toml_quoted(agent.address) + "\n";
    out += "node = " + toml_quoted(agent.node) + "\n";
    if (!options.server_name.empty()) out += "server_name = " + toml_quoted(options.server_name) + "\n";
    out += toml_labels_line(agent.labels);
  }
  return out;
}

}  // namespace

std::string toml_labels_line(const Labels& labels) {
  if (labels.empty()) return "";
  std::string out = "labels = { ";
  bool first = true;
  for (const auto& [key, value] : labels) {
    out += (first ? "" : ", ") + toml_quoted(key) + " = " + toml_quoted(value);
    first = false;
  }
  return out + " }\n";
}

std::string toml_quoted(std::string_view text) {
  std::string out = "\"";
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (byte < 0x20 || byte == 0x7f) {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\u%04x", byte);
      out += escaped;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

StatusOr<KubernetesInventory> inventory_from_pods_json(std::string_view pods_json,
                                                       const KubernetesInventoryOptions& options) {
  if (options.port < 1 || options.port > 65535) {
    return invalid_argument("--port " + std::to_string(options.port) + " is not a port (1-65535)");
  }
  const bool any_tls = !options.tls_ca.empty() || !options.tls_cert.empty() || !options.tls_key.empty();
  const bool all_tls = !options.tls_ca.empty() && !options.tls_cert.empty() && !options.tls_key.empty();
  if (any_tls && !all_tls) return invalid_argument("[tls] needs all three of --tls-ca, --tls-cert and --tls-key");
  CHAOS_ASSIGN_OR_RETURN(const std::vector<json> pods, pod_objects(pods_json));
  KubernetesInventory inventory;
  std::vector<ReadyAgent> ready;
  for (size_t i = 0; i < pods.size(); ++i) {
    CHAOS_ASSIGN_OR_RETURN(auto agent, read_pod(pods[i], "items[" + std::to_string(i) + "]", options.port,
                                                inventory.warnings));
    if (agent) ready.push_back(std::move(*agent));
  }
  // kubectl lists by name; sort anyway so the file is the same however the
  // list was made, and the first pod of a node is chosen the same way.
  std::sort(ready.begin(), ready.end(), [](const ReadyAgent& a, const ReadyAgent& b) {
    return a.node != b.node ? a.node < b.node : a.pod < b.pod;
  });
  std::vector<ReadyAgent> one_per_node;
  for (ReadyAgent& agent : ready) {
    if (!one_per_node.empty() && one_per_node.back().node == agent.node) {
      inventory.warnings.push_back("skipping pod " + agent.pod + ": node " + agent.node + " already has pod " +
                                   one_per_node.back().pod);
      continue;
    }
    one_per_node.push_back(std::move(agent));
  }
  if (one_per_node.empty()) {
    return not_found("pods JSON: no Running and Ready chaos-agent pod among " + std::to_string(pods.size()) +
                     " pod(s)");
  }
  inventory.toml = render(one_per_node, options);
  return inventory;
}

}  // namespace chaos::orchestrator
