// Inject and revert fan-out latency from the orchestrator to N agents.
//
// Starts max(N) real chaos-agent processes on 127.0.0.1 (distinct ports and
// state dirs), one `sleep` process per agent as a harmless target, and times
// the orchestrator's own AgentPool fan-out (what `chaosctl run` uses): one
// process.pause per agent (SIGSTOP of its sleep), then the revert (SIGCONT).
// Each size is measured on both paths: "async" (AgentPool::inject/revert,
// async calls on one completion queue, what a run uses since issue 17) and
// "sync" (the earlier fan_out of blocking calls on at most 16 threads).
// Fleets larger than a 2-core machine can run as processes (--light-counts,
// default 1000) use light in-process gRPC agents instead: one server in this
// process listening on N loopback ports, answering at once, so the figure is
// the orchestrator's fan-out and gRPC's cost, not the agents' work.
// Agent start-up is not measured, nor the experiment's first fault on each
// agent (its leftover snapshot): every round uses one experiment id, and the
// warm-up round takes the snapshots. For real agents the bench also reports
// the CPU the agents spent per inject and per revert (their process CPU
// clocks, read between the timed phases), which load from other processes
// disturbs less than latency.
// Prints JSON (see bench/README.md).
#include <CLI/CLI.hpp>
#include <time.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <thread>

#include <grpcpp/grpcpp.h>

#include "bench/support/child_process.h"
#include "bench/support/json_out.h"
#include "chaos/v1/agent.grpc.pb.h"
#include "common/abseil_lock_tracking.h"
#include "orchestrator/run/agent_pool.h"
#include "orchestrator/experiment/fault_spec_builder.h"

namespace {

using namespace chaos;
using chaos::bench::ChildProcess;
using Milliseconds = std::chrono::duration<double, std::milli>;

struct Options {
  std::string agent_binary = "chaos-agent";
  std::vector<int> counts{1, 10, 100};
  std::vector<int> light_counts{1000};
  std::string paths = "both";  // async, sync or both
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

// Answers every call at once: a fault id for Inject, an empty Revert.
class LightAgent final : public v1::Agent::CallbackService {
 public:
  grpc::ServerUnaryReactor* Inject(grpc::CallbackServerContext* context, const v1::InjectRequest* request,
                                   v1::InjectResponse* response) override {
    response->mutable_fault()->set_id("light-" + request->lease_id());
    response->mutable_fault()->set_state(v1::FAULT_STATE_ACTIVE);
    return done(context);
  }
  grpc::ServerUnaryReactor* Revert(grpc::CallbackServerContext* context, const v1::RevertRequest*,
                                   v1::RevertResponse*) override {
    return done(context);
  }
  grpc::ServerUnaryReactor* RevertAll(grpc::CallbackServerContext* context, const v1::RevertAllRequest*,
                                      v1::RevertAllResponse*) override {
    return done(context);
  }
  grpc::ServerUnaryReactor* Capabilities(grpc::CallbackServerContext* context, const v1::CapabilitiesRequest*,
                                         v1::CapabilitiesResponse*) override {
    return done(context);
  }

 private:
  static grpc::ServerUnaryReactor* done(grpc::CallbackServerContext* context) {
    auto* reactor = context->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }
};

struct LightFleet {
  LightAgent service;
  std::unique_ptr<grpc::Server> server;
  std::vector<std::string> addresses;
  ~LightFleet() {
    if (server) server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
  }
};

void start_light_fleet(const Options& options, int size, LightFleet& fleet) {
  grpc::ServerBuilder builder;
  std::vector<int> ports(static_cast<std::size_t>(size), 0);
  for (int i = 0; i < size; ++i) {
    // After the real agents' 2 x max(counts) ports.
    const std::string address = "127.0.0.1:" + std::to_string(options.base_port + 2 * 1000 + i);
    builder.AddListeningPort(address, grpc::InsecureServerCredentials(), &ports[static_cast<std::size_t>(i)]);
    fleet.addresses.push_back(address);
  }
  builder.RegisterService(&fleet.service);
  fleet.server = builder.BuildAndStart();
  if (!fleet.server) throw std::runtime_error("light agents: cannot start the in-process server");
  for (std::size_t i = 0; i < ports.size(); ++i) {
    if (ports[i] == 0) throw std::runtime_error("light agents: cannot listen on " + fleet.addresses[i]);
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
  double inject_cpu_ms = 0;  // summed over the agents; 0 for light agents
  double revert_cpu_ms = 0;
};

// CPU time of the processes, ended threads included (the process CPU clock).
double fanout_cpu_ms(const std::vector<int>& pids) {
  double total_ms = 0;
  for (int pid : pids) {
    clockid_t clock{};
    timespec now{};
    if (::clock_getcpuclockid(pid, &clock) != 0 || ::clock_gettime(clock, &now) != 0) continue;
    total_ms += static_cast<double>(now.tv_sec) * 1e3 + static_cast<double>(now.tv_nsec) / 1e6;
  }
  return total_ms;
}

// "sync": fan_out of blocking calls (before issue 17); "async": the
// pool's batch calls on one completion queue.
Round one_round(orchestrator::AgentPool& pool, const std::vector<std::string>& fleet_addresses,
                const std::vector<int>& target_pids, const std::vector<int>& agent_pids, int count, int repetition,
                bool async) {
  const std::vector<int> measured_agents(agent_pids.begin(), agent_pids.begin() + std::min<std::size_t>(
                                                                 agent_pids.size(), static_cast<std::size_t>(count)));
  std::vector<std::string> addresses(fleet_addresses.begin(), fleet_addresses.begin() + count);
  std::map<std::string, int> target_of;
  std::vector<v1::InjectRequest> requests;
  for (int i = 0; i < count; ++i) {
    target_of[addresses[static_cast<std::size_t>(i)]] = target_pids[static_cast<std::size_t>(i)];
    requests.push_back(pause_request(target_pids[static_cast<std::size_t>(i)], repetition));
  }
  Round round;
  const double cpu_before = fanout_cpu_ms(measured_agents);
  auto start = std::chrono::steady_clock::now();
  std::vector<StatusOr<v1::Fault>> injected;
  if (async) {
    injected = pool.inject(addresses, requests);
  } else {
    injected = pool.fan_out<StatusOr<v1::Fault>>(addresses, [&](orchestrator::AgentClient& agent) {
      return agent.inject(pause_request(target_of.at(agent.address()), repetition));
    });
  }
  round.inject_ms = Milliseconds(std::chrono::steady_clock::now() - start).count();
  const double cpu_injected = fanout_cpu_ms(measured_agents);
  round.inject_cpu_ms = cpu_injected - cpu_before;
  std::vector<std::string> fault_ids(addresses.size());
  std::map<std::string, std::string> fault_of;
  for (std::size_t i = 0; i < injected.size(); ++i) {
    if (injected[i].ok()) {
      fault_ids[i] = injected[i]->id();
      fault_of[addresses[i]] = injected[i]->id();
    } else {
      ++round.failures;
      std::cerr << "fanout_bench: inject on " << addresses[i] << ": " << injected[i].status().to_string() << "\n";
    }
  }
  start = std::chrono::steady_clock::now();
  std::vector<Status> reverted;
  if (async) {
    for (auto& answer : pool.revert(addresses, fault_ids)) reverted.push_back(answer.status());
  } else {
    reverted = pool.fan_out<Status>(addresses, [&](orchestrator::AgentClient& agent) -> Status {
      const auto found = fault_of.find(agent.address());
      // As on the async path: a failed inject has nothing to revert (and a
      // RevertAll would end the experiment, so the next inject would take the
      // leftover snapshot again).
      if (found == fault_of.end()) return Status();
      return agent.revert(found->second).status();
    });
  }
  round.revert_ms = Milliseconds(std::chrono::steady_clock::now() - start).count();
  round.revert_cpu_ms = fanout_cpu_ms(measured_agents) - cpu_injected;
  for (std::size_t i = 0; i < reverted.size(); ++i) {
    // A failed inject leaves nothing to revert (its empty id is refused).
    if (!reverted[i].ok() && !fault_ids[i].empty()) ++round.failures;
  }
  return round;
}

constexpr int kMaxWarmUpRounds = 5;
constexpr int kMaxRevertAttempts = 5;

// Reverts the experiment's live faults on `addresses`, found by listing
// them; true when a last listing, with every call answered, finds none.
bool revert_live_faults(orchestrator::AgentPool& pool, const std::vector<std::string>& addresses) {
  for (int attempt = 0; attempt < kMaxRevertAttempts; ++attempt) {
    const auto listed = pool.list(addresses, "bench-fanout", /*include_ended=*/false);
    bool all_answered = true;
    std::vector<std::string> fault_addresses, fault_ids;
    for (std::size_t i = 0; i < listed.size(); ++i) {
      if (!listed[i].ok()) {
        all_answered = false;
        continue;
      }
      for (const auto& fault : *listed[i]) {
        fault_addresses.push_back(addresses[i]);
        fault_ids.push_back(fault.id());
      }
    }
    if (all_answered && fault_ids.empty()) return true;
    if (!fault_ids.empty()) (void)pool.revert(fault_addresses, fault_ids);  // listed again next turn
  }
  return false;
}

nlohmann::json measure(orchestrator::AgentPool& pool, const std::vector<std::string>& addresses,
                       const std::vector<int>& target_pids, const std::vector<int>& agent_pids, int count,
                       int repetitions, bool async, const std::string& agents_kind) {
  // Warm-up: connections, agent caches, and each agent's leftover snapshot
  // (taken before an experiment's first fault on a node). A snapshot runs
  // a few commands, about 0.15 s of CPU; 100 agents sharing two cores take
  // longer than the pool's 10 s deadline for them, and a call that timed
  // out still runs on its agent, into the first timed rounds. So warm
  // up until a whole round passes, and revert whatever a timed-out inject
  // left live (by listing it: RevertAll would end the experiment, and the
  // next inject would take its snapshot again).
  int warm_up_rounds = 0;
  bool warm_up_passed = false;
  while (!warm_up_passed && warm_up_rounds < kMaxWarmUpRounds) {
    ++warm_up_rounds;
    const bool round_passed =
        one_round(pool, addresses, target_pids, agent_pids, count, -warm_up_rounds, async).failures == 0;
    // A light agent holds no fault (and answers no List).
    const bool nothing_live =
        agent_pids.empty() ||
        revert_live_faults(pool, std::vector<std::string>(addresses.begin(), addresses.begin() + count));
    warm_up_passed = round_passed && nothing_live;
    if (!warm_up_passed) {
      std::cerr << "fanout_bench: N=" << count << ": warm-up round " << warm_up_rounds
                << (round_passed ? " left faults live" : " had failed calls") << "\n";
    }
  }
  if (!warm_up_passed) {
    std::cerr << "fanout_bench: N=" << count << ": no warm-up round passed in " << kMaxWarmUpRounds
              << ": the timed rounds may include the agents' unfinished warm-up work\n";
  }
  std::vector<double> inject, revert;
  double inject_cpu_ms = 0, revert_cpu_ms = 0;
  int failures = 0;
  for (int repetition = 0; repetition < repetitions; ++repetition) {
    const auto round = one_round(pool, addresses, target_pids, agent_pids, count, repetition, async);
    inject.push_back(round.inject_ms);
    revert.push_back(round.revert_ms);
    inject_cpu_ms += round.inject_cpu_ms;
    revert_cpu_ms += round.revert_cpu_ms;
    failures += round.failures;
  }
  const double calls = static_cast<double>(count) * repetitions;
  std::cerr << "fanout_bench: N=" << count << " (" << agents_kind << ", " << (async ? "async" : "sync")
            << ") inject p50 " << bench::quantiles(inject).p50 << " ms p99 " << bench::quantiles(inject).p99
            << " ms, revert p50 " << bench::quantiles(revert).p50 << " ms; agent CPU per inject "
            << inject_cpu_ms / calls << " ms, per revert " << revert_cpu_ms / calls << " ms\n";
  nlohmann::json row = {{"agents", count}, {"agents_kind", agents_kind}, {"path", async ? "async" : "sync"},
                        {"repetitions", repetitions}, {"failures", failures},
                        {"warm_up_rounds", warm_up_rounds}, {"warm_up_passed", warm_up_passed},
                        {"inject_ms", bench::to_json(bench::quantiles(inject))},
                        {"revert_ms", bench::to_json(bench::quantiles(revert))},
                        // Every round in order: tells a one-off stall (and when it
                        // came) from a slow fleet, which the quantiles cannot.
                        {"inject_rounds_ms", inject},
                        {"revert_rounds_ms", revert}};
  if (!agent_pids.empty()) {
    row["agent_cpu_ms_per_inject"] = inject_cpu_ms / calls;
    row["agent_cpu_ms_per_revert"] = revert_cpu_ms / calls;
  }
  return row;
}

}  // namespace

int main(int argc, char** argv) {
  chaos::skip_abseil_lock_order_tracking();  // as chaosctl does
  Options options;
  CLI::App app{"Inject/revert fan-out latency from the orchestrator's AgentPool to N local chaos-agents"};
  app.add_option("--agent-binary", options.agent_binary, "chaos-agent to start")->capture_default_str();
  app.add_option("--counts", options.counts, "Fleet sizes to measure, e.g. 1,10,100")->delimiter(',')->capture_default_str();
  app.add_option("--light-counts", options.light_counts, "Fleet sizes of light in-process agents (0: none)")
      ->delimiter(',')
      ->capture_default_str();
  app.add_option("--paths", options.paths, "Fan-out paths to time: async, sync or both")
      ->check(CLI::IsMember({"async", "sync", "both"}))
      ->capture_default_str();
  app.add_option("--repetitions", options.repetitions, "Timed rounds per size")->capture_default_str();
  app.add_option("--base-port", options.base_port, "First of 2 x max(counts) loopback ports")->capture_default_str();
  app.add_option("--work-dir", options.work_dir, "State dirs and logs (removed afterwards)")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  std::erase(options.light_counts, 0);
  if ((options.counts.empty() && options.light_counts.empty()) || options.repetitions < 1) {
    std::cerr << "fanout_bench: --counts or --light-counts, and --repetitions, must be given and positive\n";
    return 2;
  }
  for (int count : options.counts) {
    if (count < 1 || count > 1000) {
      std::cerr << "fanout_bench: --counts must be 1..1000 real agents\n";
      return 2;
    }
  }
  for (int count : options.light_counts) {
    if (count < 1 || count > 5000) {
      std::cerr << "fanout_bench: --light-counts must be 1..5000\n";
      return 2;
    }
  }
  std::vector<bool> paths;
  if (options.paths != "sync") paths.push_back(true);
  if (options.paths != "async") paths.push_back(false);
  const int size = options.counts.empty() ? 0 : *std::max_element(options.counts.begin(), options.counts.end());
  const int light_size =
      options.light_counts.empty() ? 0 : *std::max_element(options.light_counts.begin(), options.light_counts.end());
  nlohmann::json result = {{"benchmark", "fanout"}};
  try {
    // Raises RLIMIT_NOFILE: 1,000 light agents are 3,000 sockets in this process.
    orchestrator::GrpcAgentClientFactory factory(std::chrono::seconds(10));
    orchestrator::AgentPool pool(factory);
    nlohmann::json rows = nlohmann::json::array();
    if (size > 0) {
      Fleet fleet;
      std::cerr << "fanout_bench: starting " << size << " agents\n";
      start_fleet(options, size, fleet);
      if (Status ready = wait_until_ready(pool, fleet.addresses); !ready.ok()) throw std::runtime_error(ready.message());
      std::vector<int> pids, agent_pids;
      for (const auto& target : fleet.targets) pids.push_back(target->pid());
      for (const auto& agent : fleet.agents) agent_pids.push_back(agent->pid());
      for (int count : options.counts) {
        for (bool async : paths) {
          rows.push_back(measure(pool, fleet.addresses, pids, agent_pids, count, options.repetitions, async, "process"));
        }
      }
    }
    if (light_size > 0) {
      LightFleet light;
      std::cerr << "fanout_bench: starting " << light_size << " light in-process agents\n";
      start_light_fleet(options, light_size, light);
      if (Status ready = wait_until_ready(pool, light.addresses); !ready.ok()) throw std::runtime_error(ready.message());
      const std::vector<int> pids(static_cast<std::size_t>(light_size), 1);  // never touched: the light agent only answers
      for (int count : options.light_counts) {
        for (bool async : paths) rows.push_back(measure(pool, light.addresses, pids, {}, count, options.repetitions, async, "light"));
      }
    }
    result["rows"] = rows;
    result["open_channels"] = factory.open_channels();
  } catch (const std::exception& error) {
    result["skipped"] = std::string("failed: ") + error.what();
  }
  std::error_code ignored;
  std::filesystem::remove_all(options.work_dir, ignored);
  bench::emit(result);
  return result.contains("skipped") ? 1 : 0;
}
