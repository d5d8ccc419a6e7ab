// Before anything is injected: Prometheus answers, every query of the
// experiment returns data (an empty answer is "no data", never a pass), and
// every targeted agent is reachable and offers the fault kinds it will get.
#pragma once

#include "common/status.h"
#include "orchestrator/run/agent_pool.h"
#include "orchestrator/experiment/experiment.h"
#include "orchestrator/clients/prometheus_client.h"
#include "orchestrator/run/run_journal.h"

namespace chaos::orchestrator {

// All problems found, one per line.
Status run_preflight(const Experiment& experiment, PrometheusClient& prometheus, AgentPool& agents,
                     RunJournal& journal);

}  // namespace chaos::orchestrator
