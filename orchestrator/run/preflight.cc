#include "orchestrator/run/preflight.h"

#include <algorithm>
#include <map>
#include <set>

#include "common/duration.h"

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
  const auto limit_ns = std::chrono::seconds(limit.seconds()) + std::chrono::nanoseconds(limit.nanos());
  if (limit_ns.count() > 0 && needs.longest > limit_ns) {
    return "agent " + address + " allows faults of at most " + format_duration(limit_ns) + ", a step needs " +
           format_duration(needs.longest);
  }
  return "";
}

void check_agents(const Experiment& experiment, AgentPool& pool, RunJournal& journal,
                  std::vector<std::string>& problems) {
  std::map<std::string, AgentNeeds> needs;
  for (const auto& step : experiment.method) {
    for (const auto& target : step.targets) {
      needs[target.address].kinds.insert(step.kind);
      needs[target.address].longest = std::max(needs[target.address].longest, step.duration);
    }
  }
  std::vector<std::string> addresses;
  for (const auto& [address, unused] : needs) addresses.push_back(address);
  const std::function<StatusOr<v1::CapabilitiesResponse>(AgentClient&)> ask =
      [](AgentClient& agent) { return agent.capabilities(); };
  const auto answers = pool.fan_out(addresses, ask);
  for (size_t i = 0; i < addresses.size(); ++i) {
    if (!answers[i].ok()) {
      problems.push_back("agent " + addresses[i] + " unreachable: " + answers[i].status().message());
      continue;
    }
    const std::string problem = check_capabilities(addresses[i], needs[addresses[i]], *answers[i]);
    if (!problem.empty()) problems.push_back(problem);
    else journal.event("preflight", "agent " + addresses[i] + " [" + answers[i]->node_name() +
                                        "] ready, network backend " + answers[i]->network_backend());
  }
}

}  // namespace

Status run_preflight(const Experiment& experiment, PrometheusClient& prometheus, AgentPool& agents,
                     RunJournal& journal) {
  std::vector<std::string> problems;
  const Status ready = prometheus.check_ready();
  if (!ready.ok()) {
    problems.push_back(ready.message());
  } else {
    check_queries(experiment, prometheus, journal, problems);
  }
  check_agents(experiment, agents, journal, problems);
  if (problems.empty()) return {};
  std::string joined = "preflight failed:";
  for (const auto& problem : problems) joined += "\n  " + problem;
  return failed_precondition(joined);
}

}  // namespace chaos::orchestrator
