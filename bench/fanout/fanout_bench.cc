// Inject and revert fan-out latency from the orchestrator to N agents.
//
// Starts max(N) real chaos-agent processes on 127.0.0.1 (distinct ports and
// state dirs), one `sleep` process per agent as a harmless target, and times
// the orchestrator's own AgentPool fan-out (what `chaosctl run` uses): one
// process.pause per agent (SIGSTOP of its sleep), then the revert (SIGCONT).
// Agent start-up is not measured. Prints JSON (see bench/README.md).
#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <thread>

#include "bench/support/child_process.h"
#include "bench/support/json_out.h"
#include "orchestrator/run/agent_pool.h"
#include "orchestrator/experiment/fault_spec_builder.h"

namespace {

using namespace chaos;
using chaos::bench::ChildProcess;
using Milliseconds = std::chrono::duration<double, std::milli>;

struct Options {
  std::string agent_binary = "chaos-agent";
  std::vector<int> counts{1, 10, 100};
  int repetitions = 30;
  int base_port = 23100;
  std::string work_dir = "/tmp/chaos-bench-fanout";
};

struct Fleet {
  std::vector<std::unique_ptr<ChildProcess>> agents;
  std::vector<std::unique_ptr<ChildProcess>> targets;
  std::vector<std::string> addresses;
  // All at once: one by one, 100 agents' graceful shutdowns add up to minutes.
  ~Fleet() {
    for (auto& agent : agents) agent->request_stop();
    for (auto& target : targets) target->request_stop();
  }
};

void start_fleet(const Options& options, int size, Fleet& fleet) {
  namespace fs = std::filesystem;
  for (int i = 0; i < size; ++i) {
    const auto dir = fs::path(options.work_dir) / ("agent-" + std::to_string(i));
    fs::create_directories(dir);
    const int port = options.base_port + 2 * i;
    const std::string address = "127.0.0.1:" + std::to_string(port);
    fleet.agents.push_back(std::make_unique<ChildProcess>(
        std::vector<std::string>{options.agent_binary, "--listen", address, "--metrics-listen",
                                 "127.0.0.1:" + std::to_string(port + 1), "--state-dir", (dir / "state").string(),
                                 "--node-name", "bench-" + std::to_string(i)},
        (dir / "agent.log").string()));
    fleet.targets.push_back(
        std::make_unique<ChildProcess>(std::vector<std::string>{"sleep", "3600"}, (dir / "sleep.log").string()));
    fleet.addresses.push_back(address);
  }
}

// Every agent answers Capabilities, or an error naming the first that does not.
Status wait_until_ready(orchestrator::AgentPool& pool, const std::vector<std::string>& addresses) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(180);
  for (const auto& address : addresses) {
    while (!pool.client(address).capabilities().ok()) {
      if (std::chrono::steady_clock::now() > deadline) return unavailable("agent " + address + " never answered");
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
  return {};
}

v1::InjectRequest pause_request(int target_pid, int repetition) {
  v1::InjectRequest request;
  request.set_experiment_id("bench-fanout");
  request.set_lease_id("bench-fanout-" + std::to_string(repetition));
  orchestrator::set_proto_duration(std::chrono::seconds(60), request.mutable_lease_ttl());
  orchestrator::set_proto_duration(std::chrono::seconds(60), request.mutable_duration());
  request.mutable_spec()->mutable_process_pause()->mutable_target()->set_pid(target_pid);
  return request;
}

struct Round {
  double inject_ms = 0;
  double revert_ms = 0;
  int failures = 0;
};

Round one_round(orchestrator::AgentPool& pool, const Fleet& fleet, int count, int repetition) {
  std::vector<std::string> addresses(fleet.addresses.begin(), fleet.addresses.begin() + count);
  std::map<std::string, int> target_of;
  for (int i = 0; i < count; ++i) target_of[fleet.addresses[i]] = fleet.targets[i]->pid();
  Round round;
  auto start = std::chrono::steady_clock::now();
  auto injected = pool.fan_out<StatusOr<v1::Fault>>(addresses, [&](orchestrator::AgentClient& agent) {
    return agent.inject(pause_request(target_of.at(agent.address()), repetition));
  });
  round.inject_ms = Milliseconds(std::chrono::steady_clock::now() - start).count();
  std::map<std::string, std::string> fault_of;
  for (std::size_t i = 0; i < injected.size(); ++i) {
    if (injected[i].ok()) {
      fault_of[addresses[i]] = injected[i]->id();
    } else {
      ++round.failures;
      std::cerr << "fanout_bench: inject on " << addresses[i] << ": " << injected[i].status().to_string() << "\n";
    }
  }
  start = std::chrono::steady_clock::now();
  auto reverted = pool.fan_out<Status>(addresses, [&](orchestrator::AgentClient& agent) -> Status {
    const auto found = fault_of.find(agent.address());
    if (found == fault_of.end()) return agent.revert_all("bench-fanout").status();
    return agent.revert(found->second).status();
  });
  round.revert_ms = Milliseconds(std::chrono::steady_clock::now() - start).count();
  for (const auto& status : reverted) round.failures += status.ok() ? 0 : 1;
  return round;
}

nlohmann::json measure(orchestrator::AgentPool& pool, const Fleet& fleet, int count, int repetitions) {
  (void)one_round(pool, fleet, count, -1);  // warm-up: connections and agent caches
  std::vector<double> inject, revert;
  int failures = 0;
  for (int repetition = 0; repetition < repetitions; ++repetition) {
    const auto round = one_round(pool, fleet, count, repetition);
    inject.push_back(round.inject_ms);
    revert.push_back(round.revert_ms);
    failures += round.failures;
  }
  std::cerr << "fanout_bench: N=" << count << " inject p50 " << bench::quantiles(inject).p50 << " ms, revert p50 "
            << bench::quantiles(revert).p50 << " ms\n";
  return {{"agents", count}, {"repetitions", repetitions}, {"failures", failures},
          {"inject_ms", bench::to_json(bench::quantiles(inject))},
          {"revert_ms", bench::to_json(bench::quantiles(revert))}};
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  CLI::App app{"Inject/revert fan-out latency from the orchestrator's AgentPool to N local chaos-agents"};
  app.add_option("--agent-binary", options.agent_binary, "chaos-agent to start")->capture_default_str();
  app.add_option("--counts", options.counts, "Fleet sizes to measure, e.g. 1,10,100")->delimiter(',')->capture_default_str();
  app.add_option("--repetitions", options.repetitions, "Timed rounds per size")->capture_default_str();
  app.add_option("--base-port", options.base_port, "First of 2 x max(counts) loopback ports")->capture_default_str();
  app.add_option("--work-dir", options.work_dir, "State dirs and logs (removed afterwards)")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  if (options.counts.empty() || options.repetitions < 1) {
    std::cerr << "fanout_bench: --counts and --repetitions must be positive\n";
    return 2;
  }
  const int size = *std::max_element(options.counts.begin(), options.counts.end());
  nlohmann::json result = {{"benchmark", "fanout"}};
  try {
    Fleet fleet;
    std::cerr << "fanout_bench: starting " << size << " agents\n";
    start_fleet(options, size, fleet);
    orchestrator::GrpcAgentClientFactory factory(std::chrono::seconds(10));
    orchestrator::AgentPool pool(factory);
    if (Status ready = wait_until_ready(pool, fleet.addresses); !ready.ok()) throw std::runtime_error(ready.message());
    nlohmann::json rows = nlohmann::json::array();
    for (int count : options.counts) rows.push_back(measure(pool, fleet, count, options.repetitions));
    result["rows"] = rows;
  } catch (const std::exception& error) {
    result["skipped"] = std::string("failed: ") + error.what();
  }
  std::error_code ignored;
  std::filesystem::remove_all(options.work_dir, ignored);
  bench::emit(result);
  return result.contains("skipped") ? 1 : 0;
}
