// Before anything is injected: Prometheus answers, every query of the
// experiment (both sides of each [[compare]] too) returns data (an empty answer is "no data", never a pass), and
// every targeted agent is reachable and offers the fault kinds it will get.
#pragma once

#include "common/status.h"
#include "orchestrator/run/agent_pool.h"
#include "orchestrator/experiment/experiment.h"
#include "orchestrator/clients/prometheus_client.h"
#include "orchestrator/run/run_journal.h"

namespace chaos::orchestrator {

// The agents' part of the preflight (also `chaosctl validate --ask-agents`):
// every target agent answers, offers the kinds and durations its steps need,
// and (when it supports dry runs) accepts each of its faults under its own
// spec checks, bounds and policy without applying anything. One problem per
// entry. The dry runs carry `experiment_id`: a run's own id makes each agent
// take its leftover snapshot now, before the first fault; empty (validate)
// makes it take none.
std::vector<std::string> check_agents(const Experiment& experiment, AgentPool& agents, RunJournal& journal,
                                      const std::string& experiment_id = "");

// All problems found, one per line.
Status run_preflight(const Experiment& experiment, PrometheusClient& prometheus, AgentPool& agents,
                     RunJournal& journal, const std::string& experiment_id);

}  // namespace chaos::orchestrator
