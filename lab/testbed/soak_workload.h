// Concurrent inject/revert cycles against one real agent, shared by the
// bounded soak test (tests/integration/agent/agent_soak_test.cc) and the long
// soak benchmark (bench/soak). Each client is a thread with its own gRPC
// channel and connection; client c cycles through network.delay,
// network.loss, network.partition, dns.fail and process.pause, each scoped to
// its own ports, names and victim so the clients' faults never overlap (one
// dns.fail per agent at a time: a client whose turn it is while another
// client's dns.fail is live does a process.pause instead).
//
// At quiet points (every client between cycles, no fault live) the node is
// compared with its baseline and the agent's thread count and RSS are read.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "lab/testbed/agent_test_bed.h"

namespace chaos::agent::integration {

struct SoakOptions {
  int clients = 4;
  // Run first, concurrently, so the agent's thread pools and caches have
  // grown to their working size before the "before" figures are read.
  int warmup_cycles_per_client = 5;
  int cycles_per_client = 25;
  // Cycles per client between node-state checks; the end is always one.
  int quiet_point_every = 5;
};

struct ProcessFigures {
  long threads = -1;
  long rss_kib = -1;
};

struct SoakResult {
  int cycles = 0;          // completed inject + revert cycles after warm-up
  int failed_calls = 0;    // injects or reverts that returned an error
  std::vector<std::string> errors;     // the first failures, "client 2 cycle 7 network.loss inject: ..."
  int quiet_points = 0;
  std::vector<std::string> leftovers;  // node-state diffs found at quiet points
  ProcessFigures after_warmup;
  ProcessFigures at_end;
  // At every quiet point, in order: a leak grows steadily, a cache levels off.
  std::vector<ProcessFigures> at_quiet_points;
  double seconds = 0;      // the measured cycles, warm-up excluded
};

// `victims` holds one process per client (process.pause targets); `baseline`
// is the node before the agent touched it, with those victims running.
SoakResult run_soak(AgentTestBed& bed, NamespacedAgent& agent, const chaos::testing::NodeStateSnapshot& baseline,
                    const std::vector<pid_t>& victims, const SoakOptions& options);

ProcessFigures process_figures(pid_t pid);

}  // namespace chaos::agent::integration
