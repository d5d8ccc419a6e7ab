// Commands over every agent of an inventory: halt (revert everything) and
// agents (capabilities and live faults).
#include <iostream>

#include "common/duration.h"
#include "orchestrator/run/agent_pool.h"
#include "orchestrator/commands/command_support.h"
#include "orchestrator/commands/commands.h"
#include "orchestrator/commands/fleet_commands.h"
#include "orchestrator/experiment/inventory.h"

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
  command.footer(exit_codes_help());
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

// The inventory's agents, with `factory` made to trust their TLS settings.
// An agent whose channel cannot be opened (TLS files, plaintext to a remote
// address) fails the command before any agent is asked.
StatusOr<std::vector<AgentEndpoint>> trusted_agents(const FleetFlags& flags,
                                                    std::unique_ptr<GrpcAgentClientFactory>& factory) {
  CHAOS_ASSIGN_OR_RETURN(auto agents, load_inventory(flags.inventory));
  CHAOS_ASSIGN_OR_RETURN(auto deadline, deadline_of(flags));
  for (const auto& agent : agents) {
    const auto channel = open_agent_channel(agent.address, agent.security);
    if (!channel.ok()) return channel.status().with_context("agent " + agent.address);
  }
  factory = std::make_unique<GrpcAgentClientFactory>(deadline);
  factory->trust(agents);
  return agents;
}

struct AgentView {
  StatusOr<v1::CapabilitiesResponse> capabilities;
  StatusOr<std::vector<v1::Fault>> faults;
};

void print_agent_text(std::ostream& out, const AgentEndpoint& agent, const AgentView& view) {
  out << agent.node << " (" << agent.address << ")";
  if (!view.capabilities.ok()) {
    out << ": UNREACHABLE: " << view.capabilities.status().message() << "\n";
    return;
  }
  const auto& caps = *view.capabilities;
  out << ": agent " << caps.agent_version() << ", api v" << caps.api_version() << ", network backend "
      << caps.network_backend() << "\n  kinds:";
  for (const auto& kind : caps.fault_kinds()) out << " " << kind;
  out << "\n  os capabilities:";
  for (const auto& capability : caps.os_capabilities()) out << " " << capability;
  out << "\n";
  if (!view.faults.ok()) {
    out << "  faults: " << view.faults.status().message() << "\n";
    return;
  }
  const size_t failed = count_revert_failed(*view.faults);
  out << "  live faults: " << view.faults->size();
  if (failed > 0) out << "  !! REVERT_FAILED: " << failed << " (still applied; the agent retries the revert)";
  out << "\n";
  for (const auto& fault : *view.faults) {
    out << "    ";
    print_fault_line(out, fault);
  }
}

nlohmann::json agent_json(const AgentEndpoint& agent, const AgentView& view) {
  nlohmann::json entry = {{"address", agent.address}, {"node", agent.node}, {"labels", agent.labels}};
  if (view.capabilities.ok()) entry["capabilities"] = proto_to_json(*view.capabilities);
  else entry["error"] = view.capabilities.status().message();
  if (view.capabilities.ok() && view.faults.ok()) {
    entry["faults"] = nlohmann::json::array();
    for (const auto& fault : *view.faults) entry["faults"].push_back(proto_to_json(fault));
    entry["revert_failed"] = count_revert_failed(*view.faults);
  }
  return entry;
}

int run_halt(const FleetFlags& flags) {
  std::unique_ptr<GrpcAgentClientFactory> factory;
  auto agents = trusted_agents(flags, factory);
  if (!agents.ok()) return std::cerr << "chaosctl: " << agents.status().message() << "\n", kExitUsage;
  AgentPool pool(*factory);
  return halt_fleet(pool, *agents, flags.output == "json", std::cout, std::cerr);
}

int run_agents(const FleetFlags& flags) {
  std::unique_ptr<GrpcAgentClientFactory> factory;
  auto agents = trusted_agents(flags, factory);
  if (!agents.ok()) return std::cerr << "chaosctl: " << agents.status().message() << "\n", kExitUsage;
  AgentPool pool(*factory);
  return show_agents(pool, *agents, flags.output == "json", std::cout);
}

}  // namespace

int halt_fleet(AgentPool& pool, const std::vector<AgentEndpoint>& agents, bool json, std::ostream& out,
               std::ostream& err) {
  // All at once (async, a deadline each): one dead agent never holds up the rest.
  std::vector<StatusOr<std::vector<v1::Fault>>> results;
  for (auto& answer : pool.revert_all(addresses_of(agents), "")) {
    if (answer.ok()) results.emplace_back(std::vector<v1::Fault>(answer->faults().begin(), answer->faults().end()));
    else results.emplace_back(answer.status());
  }
  nlohmann::json report = nlohmann::json::array();
  std::vector<AgentOutcome> outcomes;
  int failures = 0;
  for (size_t i = 0; i < agents.size(); ++i) {
    const auto& agent = agents[i];
    const std::string name = agent.node + " (" + agent.address + ")";
    nlohmann::json entry = {{"address", agent.address}, {"node", agent.node}};
    outcomes.push_back(agent_outcome(results[i].status()));
    if (!results[i].ok()) {
      ++failures;
      entry["ok"] = false;
      entry["error"] = results[i].status().message();
      if (!json) out << name << ": FAILED: " << results[i].status().message() << "\n";
      report.push_back(entry);
      continue;
    }
    const std::vector<std::string> unconfirmed = unconfirmed_reverts(*results[i]);
    failures += unconfirmed.empty() ? 0 : 1;
    if (!unconfirmed.empty()) outcomes.back() = AgentOutcome::kFailed;
    entry["ok"] = unconfirmed.empty();
    entry["reverted"] = results[i]->size() - unconfirmed.size();
    entry["unconfirmed"] = unconfirmed;
    if (!json) {
      out << name << ": reverted " << results[i]->size() - unconfirmed.size() << " fault(s)\n";
      for (const auto& fault : unconfirmed) out << name << ": NOT CONFIRMED: " << fault << "\n";
    }
    report.push_back(entry);
  }
  if (json) out << report.dump(2) << "\n";
  if (failures > 0) err << "chaosctl: halt not confirmed on " << failures << " agent(s)\n";
  return fleet_exit_code(outcomes);
}

int show_agents(AgentPool& pool, const std::vector<AgentEndpoint>& agents, bool json, std::ostream& out) {
  const std::function<AgentView(AgentClient&)> look = [](AgentClient& agent) {
    return AgentView{agent.capabilities(), agent.list("", false)};
  };
  const auto views = pool.fan_out(addresses_of(agents), look);
  nlohmann::json report = nlohmann::json::array();
  std::vector<AgentOutcome> outcomes;
  for (size_t i = 0; i < agents.size(); ++i) {
    const Status failed = !views[i].capabilities.ok() ? views[i].capabilities.status() : views[i].faults.status();
    outcomes.push_back(agent_outcome(failed));
    if (json) report.push_back(agent_json(agents[i], views[i]));
    else print_agent_text(out, agents[i], views[i]);
  }
  if (json) out << report.dump(2) << "\n";
  return fleet_exit_code(outcomes);
}

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
