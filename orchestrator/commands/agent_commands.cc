// Ad-hoc commands against one agent: inject, revert, faults.
#include <iostream>
#include <random>

#include "common/duration.h"
#include "orchestrator/clients/agent_client.h"
#include "orchestrator/commands/command_support.h"
#include "orchestrator/commands/commands.h"
#include "orchestrator/commands/container_target_flags.h"
#include "orchestrator/experiment/fault_spec_builder.h"
#include "orchestrator/experiment/inventory.h"

namespace chaos::orchestrator {

namespace {

struct AgentTarget {
  std::string address;
  std::string inventory;
  std::string timeout = "5s";
  std::string output = "text";
};

void add_agent_options(CLI::App& command, AgentTarget& target) {
  command.add_option("--agent", target.address, "Agent gRPC address HOST:PORT (or its node name with --inventory)")
      ->required();
  command.add_option("--inventory,-i", target.inventory,
                     "Inventory with the agent's TLS settings ([tls], server_name, token_file)")
      ->envname("CHAOSCTL_INVENTORY")
      ->check(CLI::ExistingFile);
  command.add_option("--timeout", target.timeout, "Deadline of each call")->capture_default_str();
  add_output_option(command, target.output);
  command.footer(exit_codes_help());
}

// Everything that can be wrong before the agent is asked (flags, inventory,
// TLS files) is a usage error; the channel itself connects on the first call.
StatusOr<std::unique_ptr<AgentClient>> connect(const AgentTarget& target) {
  AgentEndpoint endpoint{target.address, target.address, {}};
  if (!target.inventory.empty()) {
    CHAOS_ASSIGN_OR_RETURN(auto agents, load_inventory(target.inventory));
    CHAOS_ASSIGN_OR_RETURN(endpoint, find_agent(agents, target.address));
  }
  const std::string problem = check_agent_address(endpoint.address);
  if (!problem.empty()) return invalid_argument("--agent: " + problem);
  CHAOS_ASSIGN_OR_RETURN(auto timeout, parse_duration(target.timeout));
  if (timeout.count() <= 0) return invalid_argument("--timeout must be positive");
  auto channel = open_agent_channel(endpoint.address, endpoint.security);
  if (!channel.ok()) return channel.status().with_context("agent " + endpoint.address);
  return make_grpc_agent_client(std::move(channel->channel), endpoint.address,
                                std::chrono::duration_cast<std::chrono::milliseconds>(timeout),
                                std::move(channel->bearer_token));
}

int usage_error(const Status& status) {
  std::cerr << "chaosctl: " << status.message() << "\n";
  return kExitUsage;
}

// The agent's answer: unreachable, refused, or another failure.
int agent_error(const Status& status) {
  const AgentOutcome outcome = agent_outcome(status);
  std::cerr << "chaosctl: " << (outcome == AgentOutcome::kUnreachable ? "agent unreachable: "
                                : outcome == AgentOutcome::kRefused   ? "refused by the agent: "
                                                                      : "")
            << status.message() << "\n";
  return single_agent_exit_code(outcome);
}

struct InjectFlags {
  AgentTarget target;
  std::string kind;
  std::vector<std::string> params;
  std::string duration;
  std::string experiment_id = "adhoc";
  std::string verify = "required";
  ContainerTargetFlags container;
};

StatusOr<v1::InjectRequest> build_inject_request(const InjectFlags& flags) {
  ParamMap params;
  for (const auto& assignment : flags.params) CHAOS_RETURN_IF_ERROR(add_cli_param(assignment, params));
  CHAOS_ASSIGN_OR_RETURN(auto spec, build_fault_spec(flags.kind, params, "chaosctl inject " + flags.kind));
  CHAOS_ASSIGN_OR_RETURN(auto target, container_selector_from_flags(flags.container));
  if (target) *spec.mutable_target() = *target;  // checked by container_selector_from_flags
  CHAOS_RETURN_IF_ERROR(check_container_target_given(spec, flags.kind, "chaosctl inject"));
  auto duration = parse_duration(flags.duration);
  if (!duration.ok()) return duration.status().with_context("--duration");
  if (duration->count() <= 0) return invalid_argument("--duration must be positive");
  v1::InjectRequest request;
  request.set_experiment_id(flags.experiment_id);
  // Nobody renews an ad-hoc lease, so it lives exactly as long as the fault.
  std::random_device random;
  request.set_lease_id("chaosctl-adhoc-" + std::to_string(random()));
  set_proto_duration(*duration, request.mutable_lease_ttl());
  set_proto_duration(*duration, request.mutable_duration());
  *request.mutable_spec() = spec;
  const auto verify = parse_verify_mode(flags.verify);
  if (!verify) return invalid_argument("--verify: '" + flags.verify + "' is not one of required, best-effort, off");
  request.set_verify(*verify);
  return request;
}

int run_inject(const InjectFlags& flags) {
  auto request = build_inject_request(flags);
  if (!request.ok()) return usage_error(request.status());
  auto client = connect(flags.target);
  if (!client.ok()) return usage_error(client.status());
  auto fault = (*client)->inject(*request);
  if (!fault.ok()) return agent_error(fault.status());
  if (flags.target.output == "json") std::cout << proto_to_json(*fault).dump(2) << "\n";
  else print_fault_line(std::cout, *fault);
  return kExitOk;
}

struct RevertFlags {
  AgentTarget target;
  std::string fault_id;
  bool all = false;
};

int run_revert(const RevertFlags& flags) {
  if (flags.all == !flags.fault_id.empty()) {
    return usage_error(invalid_argument("give a FAULT_ID or --all (not both)"));
  }
  auto client = connect(flags.target);
  if (!client.ok()) return usage_error(client.status());
  std::vector<v1::Fault> reverted;
  if (flags.all) {
    auto answer = (*client)->revert_all("");
    if (!answer.ok()) return agent_error(answer.status());
    reverted.assign(answer->faults().begin(), answer->faults().end());
  } else {
    auto answer = (*client)->revert(flags.fault_id);
    if (!answer.ok()) return agent_error(answer.status());
    reverted.push_back(answer->fault());
  }
  // Only a fault the agent says is REVERTED is confirmed gone.
  const std::vector<std::string> unconfirmed = unconfirmed_reverts(reverted);
  if (flags.target.output == "json") {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& fault : reverted) list.push_back(proto_to_json(fault));
    std::cout << list.dump(2) << "\n";
  } else {
    for (const auto& fault : reverted) print_fault_line(std::cout, fault);
    if (reverted.empty()) std::cout << "no live faults\n";
  }
  if (unconfirmed.empty()) return kExitOk;
  std::cerr << "chaosctl: revert not confirmed for " << unconfirmed.size() << " fault(s):\n";
  for (const auto& fault : unconfirmed) std::cerr << "  NOT CONFIRMED: " << fault << "\n";
  return kExitError;  // like `run`: faults may still be applied
}

}  // namespace

void add_inject_command(CLI::App& app, int& exit_code) {
  auto flags = std::make_shared<InjectFlags>();
  CLI::App* command = app.add_subcommand("inject", "Inject one fault on one agent (ad hoc, outside experiments)");
  add_agent_options(*command, flags->target);
  command->add_option("kind", flags->kind, "Fault kind, e.g. network.delay, process.kill")->required();
  command->add_option("--param,-p", flags->params, "key=value (lists comma-separated), repeatable");
  command->add_option("--duration,-d", flags->duration, "How long the fault lives, e.g. 30s")->required();
  command->add_option("--experiment-id", flags->experiment_id, "Experiment id recorded with the fault")
      ->capture_default_str();
  command
      ->add_option("--verify", flags->verify,
                   "Proof of effect: required (a fault whose effect the agent cannot read back fails and is "
                   "undone), best-effort (reported, kept) or off")
      ->capture_default_str();
  add_container_target_options(*command, flags->container);
  command->callback([flags, &exit_code] { exit_code = run_inject(*flags); });
}

void add_revert_command(CLI::App& app, int& exit_code) {
  auto flags = std::make_shared<RevertFlags>();
  CLI::App* command = app.add_subcommand("revert", "Revert one fault (or every fault) on one agent");
  add_agent_options(*command, flags->target);
  command->add_option("fault_id", flags->fault_id, "The fault to revert");
  command->add_flag("--all", flags->all, "Revert every live fault on the agent");
  command->callback([flags, &exit_code] { exit_code = run_revert(*flags); });
}

void add_faults_command(CLI::App& app, int& exit_code) {
  auto flags = std::make_shared<AgentTarget>();
  auto include_ended = std::make_shared<bool>(false);
  CLI::App* command = app.add_subcommand("faults", "List the faults of one agent");
  add_agent_options(*command, *flags);
  command->add_flag("--include-ended", *include_ended, "Also list recently ended faults");
  command->callback([flags, include_ended, &exit_code] {
    auto client = connect(*flags);
    if (!client.ok()) return void(exit_code = usage_error(client.status()));
    auto faults = (*client)->list("", *include_ended);
    if (!faults.ok()) return void(exit_code = agent_error(faults.status()));
    if (flags->output == "json") {
      nlohmann::json list = nlohmann::json::array();
      for (const auto& fault : *faults) list.push_back(proto_to_json(fault));
      std::cout << list.dump(2) << "\n";
    } else {
      for (const auto& fault : *faults) print_fault_line(std::cout, fault);
      if (faults->empty()) std::cout << "no faults\n";
      if (const size_t failed = count_revert_failed(*faults); failed > 0) {
        std::cout << "!! " << failed << " fault(s) REVERT_FAILED: still applied; the agent retries the revert "
                  << "every second (the detail says why it failed)\n";
      }
    }
    exit_code = kExitOk;
  });
}

}  // namespace chaos::orchestrator
