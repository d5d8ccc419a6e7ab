#include "orchestrator/inventory.h"

#include <set>

namespace chaos::orchestrator {

std::string check_agent_address(const std::string& address) {
  const auto colon = address.rfind(':');
  if (colon == std::string::npos || colon == 0) return "address '" + address + "' is not HOST:PORT";
  const std::string port = address.substr(colon + 1);
  if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos ||
      std::stoi(port) < 1 || std::stoi(port) > 65535) {
    return "address '" + address + "' has no valid port (1-65535)";
  }
  return "";
}

std::optional<AgentEndpoint> read_agent_table(TableReader& reader) {
  AgentEndpoint agent;
  auto address = reader.string("address", true);
  auto node = reader.string("node");
  auto labels = reader.string_map("labels");
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
  return agent;
}

StatusOr<std::vector<AgentEndpoint>> load_inventory(const std::string& path) {
  Diagnostics diagnostics(path);
  auto root = parse_toml_file(path, diagnostics);
  if (!root) return diagnostics.to_status();
  TableReader reader(*root, "", diagnostics);
  std::vector<AgentEndpoint> agents;
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
      agents.push_back(*agent);
    }
  }
  reader.reject_unknown_keys();
  if (diagnostics.empty() && agents.empty()) diagnostics.error_at_start("inventory lists no [[agents]]");
  CHAOS_RETURN_IF_ERROR(diagnostics.to_status());
  return agents;
}

}  // namespace chaos::orchestrator
