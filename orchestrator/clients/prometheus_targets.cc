#include "orchestrator/clients/prometheus_targets.h"

#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "common/host_port.h"

namespace chaos::orchestrator {

namespace {

using nlohmann::json;

std::string targets_text_field(const json& object, const char* key) {
  const auto found = object.find(key);
  return found != object.end() && found->is_string() ? found->get<std::string>() : std::string();
}

// "10.0.0.7:9701" -> "10.0.0.7"; "[fd00::7]:9701" -> "fd00::7"; empty for
// an instance that is not HOST:PORT (e.g. unbracketed IPv6).
std::string targets_host_of(const std::string& instance) {
  auto parsed = split_host_port(instance, "instance");
  return parsed.ok() ? parsed->first : std::string();
}

bool targets_unspecified_host(const std::string& host) {
  return host.empty() || host == "0.0.0.0" || host == "::" || host == "[::]";
}

// An agent listening on every interface exports 0.0.0.0:PORT; the host
// Prometheus scrapes it on is the one to dial.
std::string targets_dialable(const std::string& address, const std::string& instance) {
  auto parsed = split_host_port(address, "grpc_address");
  if (!parsed.ok() || !targets_unspecified_host(parsed->first)) return address;
  const std::string host = targets_host_of(instance);
  if (host.empty()) return ":" + std::to_string(parsed->second);  // refused as not HOST:PORT, with the target named
  const bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(parsed->second);
}

// What addresses are compared by: the canonical spelling, or the address as
// written when it has none (a static agent's host is not checked further).
std::string targets_address_key(const std::string& address) {
  auto canonical = canonical_host_port(address, "address");
  return canonical.ok() ? *canonical : address;
}

}  // namespace

StatusOr<std::vector<ScrapeTarget>> parse_targets_response(std::string_view body, const std::string& url) {
  if (body.size() > kMaxTargetsJsonBytes) {
    return resource_exhausted("targets of " + url + ": answer larger than " +
                              std::to_string(kMaxTargetsJsonBytes / (1024 * 1024)) + " MiB");
  }
  const json document = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (document.is_discarded() || !document.is_object()) {
    return internal_error("targets of " + url + ": the answer is not JSON: " + std::string(body.substr(0, 200)));
  }
  if (targets_text_field(document, "status") != "success") {
    return unavailable("targets of " + url + ": " + targets_text_field(document, "errorType") + " " +
                       targets_text_field(document, "error"));
  }
  const auto data = document.find("data");
  if (data == document.end() || !data->is_object() || !data->contains("activeTargets") ||
      !(*data)["activeTargets"].is_array()) {
    return internal_error("targets of " + url + ": the answer has no data.activeTargets list");
  }
  const json& active = (*data)["activeTargets"];
  if (active.size() > kMaxDiscoveredTargets) {
    return resource_exhausted("targets of " + url + ": " + std::to_string(active.size()) +
                              " active targets, more than the " + std::to_string(kMaxDiscoveredTargets) +
                              " chaosctl reads");
  }
  std::vector<ScrapeTarget> targets;
  targets.reserve(active.size());
  for (const json& item : active) {
    if (!item.is_object()) return internal_error("targets of " + url + ": a target that is not an object");
    ScrapeTarget target;
    target.scrape_pool = targets_text_field(item, "scrapePool");
    target.health = targets_text_field(item, "health");
    target.last_error = targets_text_field(item, "lastError");
    if (const auto labels = item.find("labels"); labels != item.end() && labels->is_object()) {
      for (const auto& [key, value] : labels->items()) {
        if (value.is_string()) target.labels[key] = value.get<std::string>();
      }
    }
    targets.push_back(std::move(target));
  }
  return targets;
}

std::vector<AgentInfo> agent_infos_of(const QueryResult& result) {
  std::vector<AgentInfo> infos;
  for (const auto& series : result.series) {
    AgentInfo info;
    const auto label = [&](const char* key) {
      const auto found = series.labels.find(key);
      return found == series.labels.end() ? std::string() : found->second;
    };
    info.instance = label("instance");
    info.grpc_address = label("grpc_address");
    info.node = label("node");
    if (!info.instance.empty() && !info.grpc_address.empty()) infos.push_back(std::move(info));
  }
  return infos;
}

StatusOr<DiscoveredAgents> agents_from_targets(const std::vector<ScrapeTarget>& targets,
                                               const std::vector<AgentInfo>& infos,
                                               const InventoryDiscovery& discovery) {
  std::map<std::string, const AgentInfo*> info_of;
  for (const auto& info : infos) info_of.emplace(info.instance, &info);
  DiscoveredAgents found;
  std::map<std::string, std::string> addresses;  // canonical -> as the first target spelled it
  std::size_t in_job = 0;
  for (const auto& target : targets) {
    const auto label = [&](const std::string& key) {
      const auto value = target.labels.find(key);
      return value == target.labels.end() ? std::string() : value->second;
    };
    if (target.scrape_pool != discovery.job && label("job") != discovery.job) continue;
    ++in_job;
    const std::string instance = label("instance");
    const std::string name = instance.empty() ? "a target without instance" : "target " + instance;
    AgentEndpoint agent;
    std::string info_node;
    if (discovery.address_from_metric) {
      const auto info = info_of.find(instance);
      if (info == info_of.end()) {
        found.warnings.push_back(name + " skipped: no chaos_agent_info{grpc_address} series for it (an agent "
                                        "that predates the metric, or not scraped yet)");
        continue;
      }
      agent.address = targets_dialable(info->second->grpc_address, instance);
      info_node = info->second->node;
    } else {
      agent.address = label(discovery.address_label);
      if (agent.address.empty()) {
        found.warnings.push_back(name + " skipped: it has no label " + discovery.address_label);
        continue;
      }
    }
    if (const std::string problem = check_agent_address(agent.address); !problem.empty()) {
      found.warnings.push_back(name + " skipped: " + problem);
      continue;
    }
    auto canonical = canonical_host_port(agent.address, "address");
    if (!canonical.ok()) {
      found.warnings.push_back(name + " skipped: " + canonical.status().message());
      continue;
    }
    if (const auto [first, added] = addresses.emplace(*canonical, agent.address); !added) {
      found.warnings.push_back(name + " skipped: agent " + agent.address + " is listed by another target already" +
                               (first->second == agent.address ? "" : " (as " + first->second + ")"));
      continue;
    }
    agent.node = label(discovery.node_label);
    if (agent.node.empty()) agent.node = info_node;
    if (agent.node.empty()) {
      const std::string instance_host = targets_host_of(instance);
      agent.node = instance.empty() ? agent.address : instance_host.empty() ? instance : instance_host;
    }
    for (const auto& [key, value] : target.labels) {
      if (key.rfind("__", 0) == 0 || key == "job" || key == "instance" || key == discovery.address_label ||
          key == discovery.node_label) {
        continue;
      }
      agent.labels[key] = value;
    }
    if (target.health == "down") {
      found.warnings.push_back(name + " (agent " + agent.address + ") is down for Prometheus" +
                               (target.last_error.empty() ? "" : " (" + target.last_error + ")") +
                               "; kept, preflight checks it");
    }
    found.agents.push_back(std::move(agent));
  }
  if (found.agents.empty()) {
    std::string why = in_job == 0 ? "no active target in job " + discovery.job
                                  : "none of the " + std::to_string(in_job) + " targets of job " + discovery.job +
                                        " names an agent";
    for (const auto& warning : found.warnings) why += "\n  " + warning;
    return not_found(why);
  }
  return found;
}

StatusOr<DiscoveredAgents> discover_agents(PrometheusClient& prometheus, const InventoryDiscovery& discovery) {
  CHAOS_ASSIGN_OR_RETURN(std::string body, prometheus.active_targets_json(discovery.job));
  CHAOS_ASSIGN_OR_RETURN(auto targets, parse_targets_response(body, discovery.prometheus));
  std::vector<AgentInfo> infos;
  if (discovery.address_from_metric) {
    // The job name goes into PromQL as a quoted string.
    std::string job;
    for (char c : discovery.job) {
      if (c == '"' || c == '\\') job += '\\';
      job += c;
    }
    CHAOS_ASSIGN_OR_RETURN(auto result, prometheus.instant_query("chaos_agent_info{job=\"" + job + "\"}"));
    infos = agent_infos_of(result);
  }
  return agents_from_targets(targets, infos, discovery);
}

std::vector<AgentEndpoint> merge_discovered_agents(std::vector<AgentEndpoint> statics,
                                                   const std::vector<AgentEndpoint>& discovered,
                                                   const AgentSecurity& security) {
  std::set<std::string> addresses;
  for (const auto& agent : statics) addresses.insert(targets_address_key(agent.address));
  for (auto agent : discovered) {
    if (!addresses.insert(targets_address_key(agent.address)).second) continue;
    agent.security = security;
    agent.security.server_name = agent.node;
    statics.push_back(std::move(agent));
  }
  return statics;
}

}  // namespace chaos::orchestrator
