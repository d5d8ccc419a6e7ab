// `chaosctl validate FILE...`: every problem of every file as
// file:line:col: message; exit 3 when any file is invalid. A suite file is
// checked itself and then every experiment it names, with its overrides.
#include <iostream>

#include "orchestrator/commands/command_support.h"
#include "orchestrator/commands/commands.h"
#include "common/clock.h"
#include "orchestrator/clients/agent_client.h"
#include "orchestrator/experiment/experiment_loader.h"
#include "orchestrator/run/agent_pool.h"
#include "orchestrator/run/preflight.h"
#include "orchestrator/run/run_journal.h"
#include "orchestrator/suite/suite_loader.h"

namespace chaos::orchestrator {

namespace {

struct ValidateFlags {
  std::vector<std::string> files;
  std::string inventory;
  bool offline = false;
  bool ask_agents = false;
};

// The agents' own checks of every fault (as the run's preflight does them).
std::vector<std::string> ask_agents(const Experiment& experiment) {
  SystemClock clock;
  const auto timeout = std::chrono::duration_cast<std::chrono::milliseconds>(experiment.settings.preflight_timeout);
  GrpcAgentClientFactory factory(timeout);
  factory.trust(experiment.agents);
  AgentPool pool(factory);
  RunJournal journal(clock);
  return check_agents(experiment, pool, journal);
}

// Issue 23: what an experiment asks of the lab and the finding it records.
void print_lab_and_finding(const Experiment& experiment) {
  if (!experiment.lab.probe_flags.empty()) {
    std::cout << "  lab probe flags:";
    for (const auto& flag : experiment.lab.probe_flags) std::cout << " " << flag;
    std::cout << "\n";
  }
  if (!experiment.finding) return;
  const Finding& finding = *experiment.finding;
  if (!finding.observed.empty()) std::cout << "  finding observed: " << finding.observed << "\n";
  if (!finding.mechanism.empty()) std::cout << "  finding mechanism: " << finding.mechanism << "\n";
  std::cout << "  finding remedy: " << finding.remedy << "\n";
  if (!finding.remedied_by.empty()) std::cout << "  finding remedied by: " << finding.remedied_by << "\n";
}

// One experiment file: true when it is valid (and the agents agree, when asked).
bool validate_experiment(const std::string& file, const LoadOptions& options, bool ask) {
  auto experiment = load_experiment(file, options);
  if (!experiment.ok()) {
    std::cerr << experiment.status().message() << "\n";
    return false;
  }
  if (ask) {
    const auto problems = ask_agents(*experiment);
    if (!problems.empty()) {
      for (const auto& problem : problems) std::cerr << file << ": " << problem << "\n";
      return false;
    }
  }
  std::cout << file << ": ok (" << experiment->steady_state.size() << " checks, " << experiment->aborts.size()
            << " abort conditions, " << experiment->method.size() << " steps)\n";
  print_lab_and_finding(*experiment);
  return true;
}

// A suite file and every experiment it names, each with the entry's
// inventory unless --inventory overrides it (as `chaosctl run` does).
bool validate_suite(const std::string& file, const LoadOptions& options, bool ask) {
  auto suite = load_suite(file);
  if (!suite.ok()) {
    std::cerr << suite.status().message() << "\n";
    return false;
  }
  bool valid = true;
  for (const auto& entry : suite->entries) {
    LoadOptions entry_options = options;
    if (!entry_options.inventory_override) entry_options.inventory_override = entry.inventory;
    valid = validate_experiment(entry.file, entry_options, ask) && valid;
  }
  std::cout << file << ": " << (valid ? "ok" : "invalid") << " (suite of " << suite->entries.size()
            << " experiments)\n";
  return valid;
}

int run_validate(const ValidateFlags& flags) {
  LoadOptions options;
  if (!flags.inventory.empty()) options.inventory_override = flags.inventory;
  options.resolve_agents = !flags.offline;
  int invalid = 0;
  for (const auto& file : flags.files) {
    const bool valid = is_suite_file(file) ? validate_suite(file, options, flags.ask_agents)
                                           : validate_experiment(file, options, flags.ask_agents);
    if (!valid) ++invalid;
  }
  return invalid == 0 ? kExitOk : kExitError;
}

}  // namespace

void add_validate_command(CLI::App& app, int& exit_code) {
  auto flags = std::make_shared<ValidateFlags>();
  CLI::App* command = app.add_subcommand("validate", "Check experiment and suite files without running them");
  command->add_option("files", flags->files, "Experiment or suite TOML files")->required();
  command->add_option("--inventory,-i", flags->inventory, "Use this inventory instead of the experiment's");
  CLI::Option* offline = command->add_flag("--offline", flags->offline,
                    "Do not read inventories or match targets (for machines without the cluster)");
  command
      ->add_flag("--ask-agents", flags->ask_agents,
                 "Also ask every target agent to check each fault (spec, bounds, policy) without applying it")
      ->excludes(offline);
  command->callback([flags, &exit_code] { exit_code = run_validate(*flags); });
}

}  // namespace chaos::orchestrator
