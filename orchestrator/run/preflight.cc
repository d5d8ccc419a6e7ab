#include "orchestrator/run/preflight.h"

#include <algorithm>
#include <map>
#include <set>

#include "common/duration.h"
#include "orchestrator/experiment/fault_spec_builder.h"

namespace chaos::orchestrator {

namespace {

void check_queries(const Experiment& experiment, PrometheusClient& prometheus, RunJournal& journal,
                   std::vector<std::string>& problems) {
  std::vector<std::pair<std::string, Condition>> conditions;
  for (const auto& check : experiment.steady_state) conditions.emplace_back("steady_state", check.condition);
  for (const auto& abort : experiment.aborts) conditions.emplace_back("abort", abort.condition);
  for (const auto& [kind, condition] : conditions) {
    const Evaluation evaluation = evaluate(condition, prometheus.instant_query(condition.query));
    journal.evaluation("preflight", kind, evaluation);
    if (!evaluation.error.empty()) {
      problems.push_back(kind + " '" + condition.name + "': " + evaluation.error);
    } else if (!evaluation.has_data) {
      problems.push_back(kind + " '" + condition.name + "': query '" + condition.query +
                         "' returns no data");
    }
  }
  // A compare with no data on either side can never hold: say so before
  // anything is injected rather than after the fault.
  for (const auto& compare : experiment.compare) {
    for (const auto& [side, query] : {std::pair{"faulted", &compare.faulted_query},
                                      std::pair{"control", &compare.control_query}}) {
      if (query->empty()) continue;  // node sets not resolved (validate --offline)
      const auto answer = prometheus.instant_query(*query);
      if (!answer.ok()) {
        problems.push_back("compare '" + compare.name + "': " + side + " query failed: " +
                           answer.status().message());
      } else if (answer->empty()) {
        problems.push_back("compare '" + compare.name + "': " + side + " query '" + *query + "' returns no data");
      }
    }
  }
}

// Which kinds each agent must support, and the longest fault it will get.
struct AgentNeeds {
  std::set<std::string> kinds;
  std::chrono::nanoseconds longest{0};
};

std::string check_capabilities(const std::string& address, const AgentNeeds& needs,
                               const v1::CapabilitiesResponse& capabilities) {
  const auto& offered = capabilities.fault_kinds();
  for (const auto& kind : needs.kinds) {
    if (std::find(offered.begin(), offered.end(), kind) == offered.end()) {
      return "agent " + address + " does not offer fault kind " + kind;
    }
  }
  const auto& limit = capabilities.max_fault_duration();
  const auto limit_ns = duration_from_proto(limit);
  if (limit_ns.count() > 0 && needs.longest > limit_ns) {
    return "agent " + address + " allows faults of at most " + format_duration(limit_ns) + ", a step needs " +
           format_duration(needs.longest);
  }
  return "";
}

// The agent's own verdict on each fault it will get, applying nothing: its
// spec checks, bounds and policy, so a refusal stops the run before the
// first fault rather than half-way through the method.
std::vector<std::string> dry_run_steps(const Experiment& experiment, const std::vector<const MethodStep*>& steps,
                                       const std::string& experiment_id, AgentClient& agent) {
  std::vector<std::string> refusals;
  for (const MethodStep* step : steps) {
    v1::InjectRequest request;
    // The run's id: the agent then takes its leftover snapshot now rather
    // than in the first fault's inject.
    request.set_experiment_id(experiment_id);
    request.set_lease_id("preflight");
    request.set_dry_run(true);
    set_proto_duration(experiment.settings.lease_ttl, request.mutable_lease_ttl());
    set_proto_duration(step->duration, request.mutable_duration());
    *request.mutable_spec() = step->spec;
    const auto checked = agent.inject(request);
    if (!checked.ok()) {
      // The client's message names the agent and the call already.
      refusals.push_back("step '" + step->name + "' (" + step->kind + "): dry run refused: " +
                         checked.status().message());
    }
  }
  return refusals;
}

}  // namespace

std::vector<std::string> check_agents(const Experiment& experiment, AgentPool& pool, RunJournal& journal,
                                      const std::string& experiment_id) {
  std::vector<std::string> problems;
  std::map<std::string, AgentNeeds> needs;
  std::map<std::string, std::vector<const MethodStep*>> steps_of;
  for (const auto& step : experiment.method) {
    for (const auto& target : step.targets) {
      needs[target.address].kinds.insert(step.kind);
      needs[target.address].longest = std::max(needs[target.address].longest, step.duration);
      steps_of[target.address].push_back(&step);
    }
  }
  std::vector<std::string> addresses;
  for (const auto& [address, unused] : needs) addresses.push_back(address);
  const auto answers = pool.capabilities(addresses);
  std::vector<std::string> ready;
  for (size_t i = 0; i < addresses.size(); ++i) {
    if (!answers[i].ok()) {
      problems.push_back("agent " + addresses[i] + " unreachable: " + answers[i].status().message());
      continue;
    }
    const std::string problem = check_capabilities(addresses[i], needs[addresses[i]], *answers[i]);
    if (!problem.empty()) {
      problems.push_back(problem);
      continue;
    }
    journal.event("preflight", "agent " + addresses[i] + " [" + answers[i]->node_name() +
                                   "] ready, network backend " + answers[i]->network_backend());
    // An agent from before dry runs would apply the fault: it is not asked.
    if (answers[i]->dry_run()) ready.push_back(addresses[i]);
  }
  const std::function<std::vector<std::string>(AgentClient&)> dry_run =
      [&](AgentClient& agent) { return dry_run_steps(experiment, steps_of.at(agent.address()), experiment_id, agent); };
  for (const auto& refusals : pool.fan_out(ready, dry_run)) {
    problems.insert(problems.end(), refusals.begin(), refusals.end());
  }
  return problems;
}

Status run_preflight(const Experiment& experiment, PrometheusClient& prometheus, AgentPool& agents,
                     RunJournal& journal, const std::string& experiment_id) {
  std::vector<std::string> problems;
  const Status ready = prometheus.check_ready();
  if (!ready.ok()) {
    problems.push_back(ready.message());
  } else {
    check_queries(experiment, prometheus, journal, problems);
  }
  for (auto& problem : check_agents(experiment, agents, journal, experiment_id)) {
    problems.push_back(std::move(problem));
  }
  if (problems.empty()) return {};
  std::string joined = "preflight failed:";
  for (const auto& problem : problems) joined += "\n  " + problem;
  return failed_precondition(joined);
}

}  // namespace chaos::orchestrator
