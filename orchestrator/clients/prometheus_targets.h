// Agents found through Prometheus's own service discovery (Kubernetes,
// Consul, EC2, file_sd, ...): the active targets of one scrape pool
// (GET /api/v1/targets) mapped to agent endpoints. Each target names its
// agent's gRPC address either in a target label (set in file_sd or by
// relabelling) or through the agent's own `chaos_agent_info{grpc_address}`
// metric. The parsing and mapping are pure, so they are tested with JSON
// text; discover_agents() adds the HTTP calls.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "orchestrator/clients/prometheus_client.h"
#include "orchestrator/experiment/experiment.h"
#include "orchestrator/experiment/inventory.h"

namespace chaos::orchestrator {

// A targets page of 10,000 targets is a few MiB; more is not one.
inline constexpr std::size_t kMaxTargetsJsonBytes = 32 * 1024 * 1024;
inline constexpr std::size_t kMaxDiscoveredTargets = 10000;

struct ScrapeTarget {
  std::string scrape_pool;
  std::string health;      // "up", "down", "unknown"
  std::string last_error;  // why it is down
  Labels labels;           // after relabelling: job, instance, the file_sd labels, ...
};

// The activeTargets of a /api/v1/targets answer. `url` names the source in
// errors. More than kMaxDiscoveredTargets targets is RESOURCE_EXHAUSTED.
StatusOr<std::vector<ScrapeTarget>> parse_targets_response(std::string_view body, const std::string& url);

// grpc_address per instance, from `chaos_agent_info` series (address_from = "metric").
struct AgentInfo {
  std::string instance;
  std::string grpc_address;
  std::string node;
};
std::vector<AgentInfo> agent_infos_of(const QueryResult& result);

struct DiscoveredAgents {
  std::vector<AgentEndpoint> agents;
  std::vector<std::string> warnings;  // targets skipped or merged, and why
};

// The targets of `discovery.job` as agents, one per gRPC address, in the
// order Prometheus listed them:
// - address: the target label `discovery.address_label`, or (address_from
//   = "metric") the grpc_address of the target's chaos_agent_info series;
//   an unspecified host (0.0.0.0, [::]) takes the host of the target's
//   instance. A target without one is skipped with a warning.
// - node: the target label `discovery.node_label`, else the instance's host.
// - labels: the other target labels, except job, instance and the two above.
// Down targets are kept with a warning (preflight then reports the agent
// unreachable: a fleet that shrank silently would hide the fault's real
// blast radius); a second target with the same address is dropped with a
// warning. No agent at all is NOT_FOUND naming the job.
StatusOr<DiscoveredAgents> agents_from_targets(const std::vector<ScrapeTarget>& targets,
                                               const std::vector<AgentInfo>& infos,
                                               const InventoryDiscovery& discovery);

// Both steps against a live Prometheus.
StatusOr<DiscoveredAgents> discover_agents(PrometheusClient& prometheus, const InventoryDiscovery& discovery);

// Static agents first; a discovered agent with the address of a static one
// is left out (the static entry wins). Every discovered agent gets
// `security`, with its node as server_name.
std::vector<AgentEndpoint> merge_discovered_agents(std::vector<AgentEndpoint> statics,
                                                   const std::vector<AgentEndpoint>& discovered,
                                                   const AgentSecurity& security);

}  // namespace chaos::orchestrator
