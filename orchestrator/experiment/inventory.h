// Agent inventories: `[[agents]]` tables with address, node, labels and an
// optional server_name, plus how to reach them securely, written by people
// or by `chaosctl lab up`:
//
//   token_file = "token"          # optional bearer token (relative paths are
//   insecure = false              #   relative to the inventory file)
//   [tls]                         # mTLS: all three
//   ca = "certs/ca.crt"
//   cert = "certs/chaosctl.crt"
//   key = "certs/chaosctl.key"
//   [[agents]]
//   address = "10.77.0.11:9700"
//   node = "n1"
//   server_name = "n1.lab"        # default: node
//
// Without [tls], chaosctl refuses plaintext to non-loopback agents unless
// `insecure = true`.
//
// Agents can also be found through Prometheus's service discovery
// (orchestrator/clients/prometheus_targets.h), merged after [[agents]]:
//
//   [discovery]
//   prometheus = "http://10.0.0.5:9090"
//   job = "chaos-agents"                   # the scrape pool of the agents
//   address_label = "chaos_agent_address"  # target label with HOST:PORT
//   address_from = "label"                 # or "metric": chaos_agent_info
//   node_label = "node"                    # default: the instance's host
//   timeout = "10s"
//   ca_file = "certs/prometheus-ca.crt"    # and the other TLS/credential keys
//                                          #   of an experiment's [prometheus]
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "orchestrator/experiment/experiment.h"
#include "orchestrator/experiment/http_endpoint_config.h"
#include "common/toml_reader.h"

namespace chaos::orchestrator {

struct InventoryDiscovery {
  std::string prometheus;  // base URL of the Prometheus API
  std::string job;         // scrape pool
  std::string address_label = "chaos_agent_address";
  bool address_from_metric = false;  // address_from = "metric"
  std::string node_label = "node";
  std::chrono::milliseconds timeout{10000};
  std::string where;  // "file:line:col" of the [discovery] table, for errors
  // How to reach that Prometheus: ca_file, client_cert_file/client_key_file,
  // bearer_token_file, basic_auth_user/basic_auth_password_file, insecure
  // (the keys of an experiment's [prometheus]); url = `prometheus`.
  HttpEndpointConfig endpoint;
};

struct Inventory {
  std::vector<AgentEndpoint> agents;  // the static [[agents]]
  std::optional<InventoryDiscovery> discovery;
  AgentSecurity security;  // the file's [tls], token_file, insecure
};

// The file alone: no discovery yet. Errors are "file:line:col: message",
// one per line.
StatusOr<Inventory> read_inventory(const std::string& path);

// Turns an inventory with [discovery] into its agents (static ones
// included). chaosctl installs the Prometheus one at start-up
// (install_prometheus_discovery); libraries without it stay free of HTTP.
using InventoryDiscoverer = std::function<StatusOr<std::vector<AgentEndpoint>>(const Inventory&)>;
void set_inventory_discoverer(InventoryDiscoverer discoverer);

// read_inventory, then discovery when the file asks for it.
StatusOr<std::vector<AgentEndpoint>> load_inventory(const std::string& path);

// Reads one agent table (address, node, labels, server_name); reports
// problems to the reader's diagnostics and returns nullopt.
std::optional<AgentEndpoint> read_agent_table(TableReader& reader);

// HOST:PORT with a port in 1..65535; empty message when valid.
std::string check_agent_address(const std::string& address);

// The agent whose address or node name is `name`, or NOT_FOUND.
StatusOr<AgentEndpoint> find_agent(const std::vector<AgentEndpoint>& agents, const std::string& name);

}  // namespace chaos::orchestrator
