// Commands over every agent of an inventory: halt (revert everything) and
// agents (capabilities and live faults).
#include <iostream>

#include "common/duration.h"
#include "orchestrator/agent_pool.h"
#include "orchestrator/commands/command_support.h"
#include "orchestrator/commands/commands.h"
#include "orchestrator/inventory.h"

namespace chaos::orchestrator {

namespace {

struct FleetFlags {
  std::string inventory;
  std::string timeout = "5s";
  std::string output = "text";
};

void add_fleet_options(CLI::App& command, FleetFlags& flags) {
  command.add_option("--inventory,-i", flags.inventory, "Inventory file with [[agents]]")
      ->required()
      ->check(CLI::ExistingFile);
  command.add_option("--timeout", flags.timeout, "Deadline of each call")->capture_default_str();
  add_output_option(command, flags.output);
}

std::vector<std::string> addresses_of(const std::vector<AgentEndpoint>& agents) {
  std::vector<std::string> addresses;
  for (const auto& agent : agents) addresses.push_back(agent.address);
  return addresses;
}

StatusOr<std::chrono::milliseconds> deadline_of(const FleetFlags& flags) {
  auto timeout = parse_duration(flags.timeout);
  if (!timeout.ok()) return timeout.status().with_context("--timeout");
  if (timeout->count() <= 0) return invalid_argument("--timeout must be positive");
  return std::chrono::duration_cast<std::chrono::milliseconds>(*timeout);
}

int run_halt(const FleetFlags& flags) {
  auto agents = load_inventory(flags.inventory);
  if (!agents.ok()) return std::cerr << agents.status().message() << "\n", kExitError;
  auto deadline = deadline_of(flags);
  if (!deadline.ok()) return std::cerr << "chaosctl: " << deadline.status().message() << "\n", kExitError;
  GrpcAgentClientFactory factory(*deadline);
  factory.trust(*agents);
  AgentPool pool(factory);
  const std::function<StatusOr<std::vector<v1::Fault>>(AgentClient&)> halt =
      [](AgentClient& agent) { return agent.revert_all(""); };
  const auto results = pool.fan_out(addresses_of(*agents), halt);
  nlohmann::json report = nlohmann::json::array();
  int failures = 0;
  for (size_t i = 0; i < agents->size(); ++i) {
    const auto& agent = (*agents)[i];
    nlohmann::json entry = {{"address", agent.address}, {"node", agent.node}, {"ok", results[i].ok()}};
    if (results[i].ok()) {
      entry["reverted"] = results[i]->size();
      if (flags.output == "text") {
        std::cout << agent.node << " (" << agent.address << "): reverted " << results[i]->size() << " fault(s)\n";
      }
    } else {
      ++failures;
      entry["error"] = results[i].status().message();
      if (flags.output == "text") std::cout << agent.node << " (" << agent.address << "): FAILED: "
                                            << results[i].status().message() << "\n";
    }
    report.push_back(entry);
  }
  if (flags.output == "json") std::cout << report.dump(2) << "\n";
  return failures == 0 ? kExitOk : kExitError;
}

struct AgentView {
  StatusOr<v1::CapabilitiesResponse> capabilities;
  StatusOr<std::vector<v1::Fault>> faults;
};

void print_agent_text(const AgentEndpoint& agent, const AgentView& view) {
  std::cout << agent.node << " (" << agent.address << ")";
  if (!view.capabilities.ok()) {
    std::cout << ": UNREACHABLE: " << view.capabilities.status().message() << "\n";
    return;
  }
  const auto& caps = *view.capabilities;
  std::cout << ": agent " << caps.agent_version() << ", api v" << caps.api_version() << ", network backend "
            << caps.network_backend() << "\n  kinds:";
  for (const auto& kind : caps.fault_kinds()) std::cout << " " << kind;
  std::cout << "\n  os capabilities:";
  for (const auto& capability : caps.os_capabilities()) std::cout << " " << capability;
  std::cout << "\n";
  if (!view.faults.ok()) {
    std::cout << "  faults: " << view.faults.status().message() << "\n";
    return;
  }
  std::cout << "  live faults: " << view.faults->size() << "\n";
  for (const auto& fault : *view.faults) {
    std::cout << "    ";
    print_fault_line(std::cout, fault);
  }
}

nlohmann::json agent_json(const AgentEndpoint& agent, const AgentView& view) {
  nlohmann::json entry = {{"address", agent.address}, {"node", agent.node}, {"labels", agent.labels}};
  if (view.capabilities.ok()) entry["capabilities"] = proto_to_json(*view.capabilities);
  else entry["error"] = view.capabilities.status().message();
  if (view.capabilities.ok() && view.faults.ok()) {
    entry["faults"] = nlohmann::json::array();
    for (const auto& fault : *view.faults) entry["faults"].push_back(proto_to_json(fault));
  }
  return entry;
}

int run_agents(const FleetFlags& flags) {
  auto agents = load_inventory(flags.inventory);
  if (!agents.ok()) return std::cerr << agents.status().message() << "\n", kExitError;
  auto deadline = deadline_of(flags);
  if (!deadline.ok()) return std::cerr << "chaosctl: " << deadline.status().message() << "\n", kExitError;
  GrpcAgentClientFactory factory(*deadline);
  factory.trust(*agents);
  AgentPool pool(factory);
  const std::function<AgentView(AgentClient&)> look = [](AgentClient& agent) {
    return AgentView{agent.capabilities(), agent.list(false)};
  };
  const auto views = pool.fan_out(addresses_of(*agents), look);
  nlohmann::json report = nlohmann::json::array();
  bool all_reachable = true;
  for (size_t i = 0; i < agents->size(); ++i) {
    all_reachable = all_reachable && views[i].capabilities.ok();
    if (flags.output == "json") report.push_back(agent_json((*agents)[i], views[i]));
    else print_agent_text((*agents)[i], views[i]);
  }
  if (flags.output == "json") std::cout << report.dump(2) << "\n";
  return all_reachable ? kExitOk : kExitError;
}

}  // namespace

void add_halt_command(CLI::App& app, int& exit_code) {
  auto flags = std::make_shared<FleetFlags>();
  CLI::App* command = app.add_subcommand("halt", "Revert every fault on every agent of an inventory");
  add_fleet_options(*command, *flags);
  command->callback([flags, &exit_code] { exit_code = run_halt(*flags); });
}

void add_agents_command(CLI::App& app, int& exit_code) {
  auto flags = std::make_shared<FleetFlags>();
  CLI::App* command = app.add_subcommand("agents", "Show each agent's capabilities and live faults");
  add_fleet_options(*command, *flags);
  command->callback([flags, &exit_code] { exit_code = run_agents(*flags); });
}

}  // namespace chaos::orchestrator
