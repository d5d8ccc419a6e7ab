// Long soak (root): N concurrent clients, each with its own gRPC channel,
// doing inject/revert cycles of mixed kinds (network delay/loss/partition,
// dns.fail, process.pause) against one real agent in a namespace of the
// network test bed, 1,000 cycles in all by default. The workload is the
// bounded soak test's (lab/testbed/soak_workload.h). Prints one
// JSON object: cycles, duration, failed calls, leftovers found at quiet
// points, and the agent's threads and RSS after warm-up and at the end.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <filesystem>
#include <iostream>

#include "bench/support/child_process.h"
#include "bench/support/json_out.h"
#include "lab/testbed/soak_workload.h"

namespace {

using namespace chaos::agent::integration;

nlohmann::json figures(const ProcessFigures& figures) {
  return {{"threads", figures.threads}, {"rss_mib", static_cast<double>(figures.rss_kib) / 1024.0}};
}

nlohmann::json run(const SoakOptions& options) {
  const TempDir dir("chaos-bench-soak-" + std::to_string(::getpid()));
  AgentTestBed bed;
  if (!bed.error().empty()) throw std::runtime_error(bed.error());
  // Victims that outlive any soak (the test harness's live 300 s).
  std::vector<std::unique_ptr<chaos::bench::ChildProcess>> victims;
  std::vector<pid_t> pids;
  for (int c = 0; c < options.clients; ++c) {
    victims.push_back(std::make_unique<chaos::bench::ChildProcess>(std::vector<std::string>{"sleep", "86400"},
                                                                   (dir / "victim.log").string()));
    pids.push_back(victims.back()->pid());
  }
  auto baseline = bed.snapshot(pids);
  if (!baseline.ok()) throw std::runtime_error(baseline.status().to_string());
  NamespacedAgent agent(bed.a(), (dir / "state").string(), (dir / "agent.log").string());
  if (!agent.start()) throw std::runtime_error("the agent did not start:\n" + agent.log());
  std::cerr << "soak_bench: " << options.clients << " clients x " << options.cycles_per_client << " cycles (+"
            << options.warmup_cycles_per_client << " warm-up each)\n";
  const SoakResult soak = run_soak(bed, agent, *baseline, pids, options);
  nlohmann::json series = nlohmann::json::array();
  for (const auto& point : soak.at_quiet_points) series.push_back(figures(point));
  const bool stopped = agent.stop() == 0;
  const std::string final_diff = bed.diff_from(*baseline, pids);
  nlohmann::json result = {
      {"clients", options.clients},
      {"cycles", soak.cycles},
      {"warmup_cycles", options.clients * options.warmup_cycles_per_client},
      {"seconds", soak.seconds},
      {"cycles_per_second", soak.seconds > 0 ? soak.cycles / soak.seconds : 0.0},
      {"failed_calls", soak.failed_calls},
      {"errors", soak.errors},
      {"quiet_points", soak.quiet_points},
      {"leftovers", soak.leftovers},
      {"after_warmup", figures(soak.after_warmup)},
      {"at_end", figures(soak.at_end)},
      {"at_quiet_points", series},
      {"threads_growth", soak.at_end.threads - soak.after_warmup.threads},
      {"rss_growth_mib", static_cast<double>(soak.at_end.rss_kib - soak.after_warmup.rss_kib) / 1024.0},
      {"clean_shutdown", stopped},
      {"left_after_shutdown", final_diff},
  };
  return result;
}

}  // namespace

int main(int argc, char** argv) {
  std::string agent_binary = "build-bench/bin/chaos-agent";
  int cycles = 1000;
  SoakOptions options;
  options.quiet_point_every = 25;
  CLI::App app{"Long soak of one chaos-agent: concurrent inject/revert cycles of mixed kinds (root)"};
  app.add_option("--agent-binary", agent_binary, "chaos-agent to start (BUILD_DIR/bin/chaos-agent)")
      ->capture_default_str();
  app.add_option("--cycles", cycles, "Measured cycles in all, split over the clients")->capture_default_str();
  app.add_option("--clients", options.clients, "Concurrent clients")->capture_default_str();
  app.add_option("--quiet-point-every", options.quiet_point_every, "Cycles per client between node-state checks")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  options.cycles_per_client = std::max(1, cycles / std::max(1, options.clients));
  nlohmann::json result = {{"benchmark", "soak"}};
  if (geteuid() != 0) {
    result["skipped"] = "needs root (network namespaces)";
    chaos::bench::emit(result);
    return 0;
  }
  try {
    // The harness starts $CHAOS_BUILD_DIR/bin/chaos-agent.
    const auto binary = std::filesystem::absolute(agent_binary);
    if (binary.parent_path().filename() != "bin") throw std::runtime_error("--agent-binary must be DIR/bin/chaos-agent");
    ::setenv("CHAOS_BUILD_DIR", binary.parent_path().parent_path().c_str(), 1);
    result.update(run(options));
  } catch (const std::exception& error) {
    result["skipped"] = std::string("failed: ") + error.what();
  }
  chaos::bench::emit(result);
  return result.contains("skipped") ? 1 : 0;
}
