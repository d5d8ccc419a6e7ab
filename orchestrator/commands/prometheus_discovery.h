// Agent discovery through Prometheus for chaosctl: the [discovery] table
// of an inventory, and `chaosctl inventory from-prometheus`.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"
#include "orchestrator/clients/prometheus_targets.h"
#include "orchestrator/experiment/inventory.h"

namespace chaos::orchestrator {

// Makes load_inventory() resolve [discovery] over HTTP; warnings (targets
// skipped, down, duplicated) go to stderr.
void install_prometheus_discovery();

// One discovery against the Prometheus the settings name.
StatusOr<DiscoveredAgents> discover_agents_at(const InventoryDiscovery& discovery);

struct PrometheusInventoryOptions {
  // Written as the inventory's [tls] when all three are set.
  std::string tls_ca;
  std::string tls_cert;
  std::string tls_key;
};

// The inventory file's text: one [[agents]] per discovered agent.
std::string prometheus_inventory_toml(const std::vector<AgentEndpoint>& agents, const InventoryDiscovery& discovery,
                                      const PrometheusInventoryOptions& options);

}  // namespace chaos::orchestrator
