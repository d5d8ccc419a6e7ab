#include "orchestrator/commands/prometheus_discovery.h"

#include <iostream>

#include "common/printable_text.h"
#include "orchestrator/commands/kubernetes_inventory.h"

namespace chaos::orchestrator {

StatusOr<DiscoveredAgents> discover_agents_at(const InventoryDiscovery& discovery) {
  HttpEndpointConfig endpoint = discovery.endpoint;
  endpoint.url = discovery.prometheus;
  endpoint.timeout = discovery.timeout;
  CHAOS_ASSIGN_OR_RETURN(auto prometheus, make_http_prometheus_client(endpoint));
  return discover_agents(*prometheus, discovery);
}

void install_prometheus_discovery() {
  set_inventory_discoverer([](const Inventory& inventory) -> StatusOr<std::vector<AgentEndpoint>> {
    CHAOS_ASSIGN_OR_RETURN(auto found, discover_agents_at(*inventory.discovery));
    for (const auto& warning : found.warnings) std::cerr << "chaosctl: discovery: warning: " << warning << "\n";
    return merge_discovered_agents(inventory.agents, found.agents, inventory.security);
  });
}

std::string prometheus_inventory_toml(const std::vector<AgentEndpoint>& agents, const InventoryDiscovery& discovery,
                                      const PrometheusInventoryOptions& options) {
  std::string out = "# Written by chaosctl inventory from-prometheus: the targets of job " +
                    printable_text(discovery.job) + "\n# at " + printable_text(discovery.prometheus) +
                    ". For a list that follows the fleet, use [discovery].\n";
  if (!options.tls_ca.empty() && !options.tls_cert.empty() && !options.tls_key.empty()) {
    out += "\n[tls]\nca = " + toml_quoted(options.tls_ca) + "\ncert = " + toml_quoted(options.tls_cert) +
           "\nkey = " + toml_quoted(options.tls_key) + "\n";
  }
  for (const auto& agent : agents) {
    out += "\n[[agents]]\naddress = " + toml_quoted(agent.address) + "\nnode = " + toml_quoted(agent.node) + "\n";
    out += toml_labels_line(agent.labels);
  }
  return out;
}

}  // namespace chaos::orchestrator
