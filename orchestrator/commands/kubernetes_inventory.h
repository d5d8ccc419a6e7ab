// `chaosctl inventory from-kubernetes`: turns the pod list of the chaos-agent
// DaemonSet (`kubectl get pods -o json`, deploy/kubernetes/) into the
// inventory chaosctl reads (orchestrator/experiment/inventory.h), one agent
// per node. Pure: no cluster, no files, so it is tested with JSON text.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "orchestrator/experiment/experiment.h"

namespace chaos::orchestrator {

// agent/agent_config.h's default listen port, and the DaemonSet's.
inline constexpr int kDefaultAgentPort = 9700;
// A pod list of thousands of nodes stays far below this; more is not a pod list.
inline constexpr size_t kMaxPodsJsonBytes = 16 * 1024 * 1024;
inline constexpr size_t kMaxPods = 10000;

struct KubernetesInventoryOptions {
  int port = kDefaultAgentPort;
  // Every agent's server_name when set (one certificate shared by the
  // DaemonSet); otherwise each agent's node name, which its certificate must
  // then carry as a DNS SAN.
  std::string server_name;
  // Written as the inventory's [tls] when all three are set.
  std::string tls_ca;
  std::string tls_cert;
  std::string tls_key;
};

struct KubernetesInventory {
  std::string toml;                   // the inventory file's text
  std::vector<std::string> warnings;  // pods skipped, and why
};

// `pods_json` is a List of Pods (or one Pod). Pods not Running and Ready, or
// being deleted, are skipped with a warning; a second ready pod on a node
// too. Malformed input is INVALID_ARGUMENT naming the field; no ready pod
// at all is NOT_FOUND.
StatusOr<KubernetesInventory> inventory_from_pods_json(std::string_view pods_json,
                                                       const KubernetesInventoryOptions& options);

// TOML basic string: quotes, backslashes and control characters escaped.
std::string toml_quoted(std::string_view text);

// "labels = { \"k\" = \"v\", ... }\n" for an inventory's [[agents]] table;
// empty for no labels.
std::string toml_labels_line(const Labels& labels);

}  // namespace chaos::orchestrator
