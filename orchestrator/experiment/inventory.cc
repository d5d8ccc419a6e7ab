#include "orchestrator/experiment/inventory.h"

#include "common/host_port.h"
#include "orchestrator/experiment/http_endpoint_config.h"

#include <filesystem>
#include <set>

namespace chaos::orchestrator {

namespace {

namespace fs = std::filesystem;

std::optional<std::string> readable_file(TableReader& reader, const std::string& key, bool required,
                                         const std::string& inventory_path) {
  auto value = reader.string(key, required);
  if (!value) return std::nullopt;
  const std::string path = path_relative_to(inventory_path, *value);
  std::error_code error;
  if (!fs::is_regular_file(path, error)) {
    const std::string where = reader.name().empty() ? key : reader.name() + "." + key;
    reader.error_at(*reader.node(key), where + ": cannot read " + path);
    return std::nullopt;
  }
  return path;
}

void read_tls(TableReader& root, const std::string& path, AgentSecurity& security) {
  const toml::table* table = root.table("tls");
  if (table == nullptr) return;
  TableReader tls(*table, "tls", root.diagnostics());
  security.tls.ca = readable_file(tls, "ca", true, path).value_or("");
  security.tls.cert = readable_file(tls, "cert", true, path).value_or("");
  security.tls.key = readable_file(tls, "key", true, path).value_or("");
  tls.reject_unknown_keys();
}

void read_security(TableReader& root, const std::string& path, AgentSecurity& security) {
  read_tls(root, path, security);
  security.token_file = readable_file(root, "token_file", false, path).value_or("");
  if (const toml::node* insecure = root.node("insecure")) {
    if (!insecure->is_boolean()) {
      root.error_at(*insecure, "insecure: expected true or false");
    } else if (**insecure->as_boolean() && root.node("tls") != nullptr) {
      root.error_at(*insecure, "insecure = true contradicts [tls]; remove one of them");
    } else {
      security.insecure = **insecure->as_boolean();
    }
  }
}

InventoryDiscoverer& inventory_discoverer() {
  static InventoryDiscoverer discoverer;
  return discoverer;
}

std::optional<InventoryDiscovery> read_discovery(TableReader& root, const std::string& inventory_path) {
  const toml::table* table = root.table("discovery");
  if (table == nullptr) return std::nullopt;
  TableReader reader(*table, "discovery", root.diagnostics());
  InventoryDiscovery discovery;
  discovery.where = root.diagnostics().where(table->source());
  auto prometheus = reader.string("prometheus", true);
  auto job = reader.string("job", true);
  auto address_label = reader.string("address_label");
  auto address_from = reader.string("address_from");
  auto node_label = reader.string("node_label");
  auto timeout = reader.duration("timeout", false, {false, std::chrono::minutes(5)});
  // The same TLS and credential keys as an experiment's [prometheus]; the
  // URL is `prometheus` here.
  read_http_endpoint(reader, inventory_path, false, "bearer_token_file", discovery.endpoint);
  if (reader.node("url") != nullptr) reader.error_at_key("url", "the Prometheus URL is `prometheus` here");
  reader.reject_unknown_keys();
  if (prometheus && prometheus->rfind("http://", 0) != 0 && prometheus->rfind("https://", 0) != 0) {
    reader.error_at_key("prometheus", "'" + *prometheus + "' is not an http:// or https:// URL");
  }
  if (job && job->empty()) reader.error_at_key("job", "must name the scrape pool of the agents");
  if (address_from && *address_from != "label" && *address_from != "metric") {
    reader.error_at_key("address_from", "'" + *address_from + "' is not one of label, metric");
  }
  discovery.prometheus = prometheus.value_or("");
  discovery.endpoint.url = discovery.prometheus;
  discovery.job = job.value_or("");
  discovery.address_label = address_label.value_or(discovery.address_label);
  discovery.address_from_metric = address_from.value_or("label") == "metric";
  discovery.node_label = node_label.value_or(discovery.node_label);
  if (timeout) discovery.timeout = std::chrono::duration_cast<std::chrono::milliseconds>(*timeout);
  return discovery;
}

}  // namespace

void set_inventory_discoverer(InventoryDiscoverer discoverer) { inventory_discoverer() = std::move(discoverer); }

std::string check_agent_address(const std::string& address) {
  const auto parsed = split_host_port(address, "address");
  if (!parsed.ok()) {
    // split_host_port's message gives the bracketed form.
    if (is_unbracketed_ipv6_host_port(address)) return parsed.status().message();
    const bool has_port_part = address.rfind(':') != std::string::npos && address.rfind(':') != 0;
    return has_port_part ? "address '" + address + "' has no valid port (1-65535)"
                         : "address '" + address + "' is not HOST:PORT";
  }
  // An agent always has a real port; 0 ("any free port") only makes sense for a listener.
  if (parsed->second < 1) return "address '" + address + "' has no valid port (1-65535)";
  return "";
}

std::optional<AgentEndpoint> read_agent_table(TableReader& reader) {
  AgentEndpoint agent;
  auto address = reader.string("address", true);
  auto node = reader.string("node");
  auto labels = reader.string_map("labels");
  auto server_name = reader.string("server_name");
  reader.reject_unknown_keys();
  if (!address) return std::nullopt;
  const std::string problem = check_agent_address(*address);
  if (!problem.empty()) {
    reader.error_at(*reader.node("address"), reader.name() + ": " + problem);
    return std::nullopt;
  }
  agent.address = *address;
  agent.node = node.value_or(*address);
  if (labels) agent.labels = *labels;
  agent.security.server_name = server_name.value_or(agent.node);
  return agent;
}

StatusOr<Inventory> read_inventory(const std::string& path) {
  Diagnostics diagnostics(path);
  auto root = parse_toml_file(path, diagnostics);
  if (!root) return diagnostics.to_status();
  TableReader reader(*root, "", diagnostics);
  Inventory inventory;
  AgentSecurity& security = inventory.security;
  read_security(reader, path, security);
  inventory.discovery = read_discovery(reader, path);
  std::vector<AgentEndpoint>& agents = inventory.agents;
  std::set<std::string> addresses;
  if (const toml::array* tables = reader.array_of_tables("agents")) {
    for (size_t i = 0; i < tables->size(); ++i) {
      const toml::table& table = *tables->get(i)->as_table();
      TableReader agent_reader(table, "agents[" + std::to_string(i) + "]", diagnostics);
      auto agent = read_agent_table(agent_reader);
      if (!agent) continue;
      if (!addresses.insert(agent->address).second) {
        agent_reader.error_here("agent " + agent->address + " is listed twice");
        continue;
      }
      const std::string server_name = agent->security.server_name;
      agent->security = security;
      agent->security.server_name = server_name;
      agents.push_back(*agent);
    }
  }
  reader.reject_unknown_keys();
  if (diagnostics.empty() && agents.empty() && !inventory.discovery) {
    diagnostics.error_at_start("inventory lists no [[agents]] and has no [discovery]");
  }
  CHAOS_RETURN_IF_ERROR(diagnostics.to_status());
  return inventory;
}

StatusOr<std::vector<AgentEndpoint>> load_inventory(const std::string& path) {
  CHAOS_ASSIGN_OR_RETURN(Inventory inventory, read_inventory(path));
  if (!inventory.discovery) return std::move(inventory.agents);
  const InventoryDiscoverer& discoverer = inventory_discoverer();
  if (!discoverer) {
    return failed_precondition(inventory.discovery->where + ": discovery: this program cannot ask Prometheus");
  }
  auto agents = discoverer(inventory);
  if (!agents.ok()) return Status(agents.status().code(), inventory.discovery->where + ": discovery: " + agents.status().message());
  return agents;
}

StatusOr<AgentEndpoint> find_agent(const std::vector<AgentEndpoint>& agents, const std::string& name) {
  for (const auto& agent : agents) {
    if (agent.address == name || agent.node == name) return agent;
  }
  return not_found("no agent with address or node '" + name + "' in the inventory");
}

}  // namespace chaos::orchestrator
