// Proof-of-effect latency (root): one real chaos-agent in namespace A of the
// agent test bed, one client doing sequential inject + revert of every fault
// kind, `--repetitions` times each (the kinds interleaved round by round, so
// load on the shared machine spreads over all of them). Per kind: the Inject
// and Revert RPC times the client measures, and the agent's own
// time_to_effect (request received -> effect read back) and time_to_gone
// (revert asked -> gone read back) from the responses; p50 / p99 / max and
// whether both p99s are under the goal (50 ms).
//
// Network faults are scoped to B's echo port, and a little traffic flows
// A -> B meanwhile (UDP echoes and DNS queries), so a check that waits for
// an impaired packet or query has one to see. The agent reads back the
// system state before an experiment's first fault on a node (leftover
// detector); the samples share one experiment, started by a warm-up inject,
// and the first fault of fresh experiments is reported as its own figure.
//
// A kind whose inject or revert fails is reported as "failed: <reason>"
// (with the count) and the bench goes on. Prints one JSON object.
#include <arpa/inet.h>
#include <sys/socket.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <thread>

#include "bench/support/child_process.h"
#include "bench/support/json_out.h"
#include "lab/testbed/agent_test_bed.h"

namespace {

using namespace chaos;
using namespace chaos::agent::integration;
using chaos::testing::kAddressB;
using Steady = std::chrono::steady_clock;

constexpr int kEchoPort = 7017;
constexpr const char* kDnsName = "probe.proof-bench.lab";
constexpr std::size_t kMaxErrors = 5;
// A kind that never succeeded is given up after this many failures (e.g. a
// kind whose effect check is not written yet: each failed inject may leave a
// fault the agent keeps retrying to prove gone).
constexpr int kGiveUpAfter = 3;

double ms(const google::protobuf::Duration& duration) {
  return static_cast<double>(duration.seconds()) * 1e3 + static_cast<double>(duration.nanos()) / 1e6;
}

double ms_since(Steady::time_point start) {
  return std::chrono::duration<double, std::milli>(Steady::now() - start).count();
}

nlohmann::json stats(const std::vector<double>& samples) {
  if (samples.empty()) return nullptr;
  nlohmann::json result = bench::to_json(bench::quantiles(samples));
  result["max"] = *std::max_element(samples.begin(), samples.end());
  return result;
}

bool p99_under(const std::vector<double>& samples, double goal_ms) {
  return !samples.empty() && bench::quantiles(samples).p99 < goal_ms;
}

// A minimal DNS query (RD set, one A question) for `name`.
std::string dns_query(const std::string& name, std::uint16_t id) {
  std::string packet = {static_cast<char>(id >> 8), static_cast<char>(id & 0xff), 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0};
  std::size_t start = 0;
  while (start <= name.size()) {
    const std::size_t dot = std::min(name.find('.', start), name.size());
    packet += static_cast<char>(dot - start);
    packet += name.substr(start, dot - start);
    start = dot + 1;
  }
  packet += std::string{0, 0, 1, 0, 1};  // root label, QTYPE A, QCLASS IN
  return packet;
}

// UDP echoes to B (the network faults' scope) and DNS queries to B:53 (the
// resolver of A's resolv.conf; no server answers there, dns.fail's stub
// does), from a thread in namespace A. Nothing leaves the bed.
class Traffic {
 public:
  Traffic(const std::string& netns, int gap_us) {
    if (gap_us <= 0) return;
    thread_ = std::thread([this, netns, gap_us] {
      chaos::testing::NamespaceEntry in_a(netns);
      const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
      if (fd < 0) return;
      const auto echo = chaos::testing::address_of(kAddressB, kEchoPort);
      const auto dns = chaos::testing::address_of(kAddressB, 53);
      const std::string payload(32, 'p');
      char sink[2048];
      for (std::uint16_t n = 0; !stop_; ++n) {
        (void)::sendto(fd, payload.data(), payload.size(), 0, reinterpret_cast<const sockaddr*>(&echo), sizeof(echo));
        if (n % 4 == 0) {
          const std::string query = dns_query(kDnsName, n);
          (void)::sendto(fd, query.data(), query.size(), 0, reinterpret_cast<const sockaddr*>(&dns), sizeof(dns));
        }
        while (::recv(fd, sink, sizeof(sink), MSG_DONTWAIT) > 0) {
        }
        std::this_thread::sleep_for(std::chrono::microseconds(gap_us));
      }
      ::close(fd);
    });
  }
  ~Traffic() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  Traffic(const Traffic&) = delete;
  Traffic& operator=(const Traffic&) = delete;

 private:
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// The processes process.pause and process.kill target; a killed one is
// replaced before the next round.
class Victims {
 public:
  explicit Victims(std::filesystem::path log) : log_(std::move(log)) {}
  pid_t get(const std::string& role) {
    auto& victim = victims_[role];
    if (!victim || !victim->running()) {
      victim.reset();  // reaps a killed one
      victim = std::make_unique<bench::ChildProcess>(std::vector<std::string>{"sleep", "86400"}, log_.string());
    }
    return victim->pid();
  }
  std::vector<pid_t> pids() {
    std::vector<pid_t> result;
    for (auto& [role, victim] : victims_) {
      if (victim && victim->running()) result.push_back(victim->pid());
    }
    return result;
  }

 private:
  std::filesystem::path log_;
  std::map<std::string, std::unique_ptr<bench::ChildProcess>> victims_;
};

struct Options {
  int repetitions = 30;
  int first_fault_samples = 5;
  int traffic_gap_us = 2000;
  double goal_ms = 50;
  v1::VerifyMode verify = v1::VERIFY_MODE_REQUIRED;
};

const std::vector<std::string>& kinds() {
  static const std::vector<std::string> names = {
      "network.delay",     "network.loss",    "network.partition", "network.bandwidth", "network.duplicate",
      "network.reorder",   "dns.fail",        "process.pause",     "process.kill",      "stress.cpu"};
  return names;
}

v1::FaultSpec spec_for(const std::string& kind, AgentTestBed& bed, Victims& victims) {
  const auto scope = network_scope(bed.network().link_a_to_b(), {std::string(kAddressB) + "/32"}, {kEchoPort});
  if (kind == "network.delay") return delay_spec(scope, 10);
  if (kind == "network.loss") return loss_spec(scope, 50);
  if (kind == "network.partition") {
    return partition_spec({std::string(kAddressB) + "/32"}, network_scope("", {}, {kEchoPort}));
  }
  if (kind == "network.bandwidth") return bandwidth_spec(scope, 100'000);  // below the echo traffic's rate
  if (kind == "network.duplicate") return duplicate_spec(scope, 50);
  if (kind == "network.reorder") return reorder_spec(scope, 50, 10);
  if (kind == "dns.fail") return dns_fail_spec("*.proof-bench.lab");
  if (kind == "process.pause") return pause_spec(victims.get("pause"));
  if (kind == "process.kill") return kill_spec(victims.get("kill"));
  v1::FaultSpec spec;  // stress.cpu: one worker at half load, short-lived anyway
  spec.mutable_stress_cpu()->set_workers(1);
  spec.mutable_stress_cpu()->set_load_percent(50);
  return spec;
}

std::string effect_name(v1::EffectState state) {
  switch (state) {
    case v1::EFFECT_STATE_NOT_CHECKED: return "not_checked";
    case v1::EFFECT_STATE_ARMED: return "armed";
    case v1::EFFECT_STATE_VERIFIED: return "verified";
    case v1::EFFECT_STATE_UNVERIFIED: return "unverified";
    default: return "unspecified";
  }
}

struct KindSamples {
  std::vector<double> inject_ms, time_to_effect_ms, revert_ms, time_to_gone_ms;
  std::map<std::string, int> effects;
  int cycles = 0;
  int failures = 0;
  std::vector<std::string> errors;

  void failed(std::string message) {
    ++failures;
    if (errors.size() < kMaxErrors) errors.push_back(std::move(message));
  }
  bool given_up() const { return cycles == 0 && failures >= kGiveUpAfter; }
};

class ProofBench {
 public:
  ProofBench(AgentTestBed& bed, NamespacedAgent& agent, Victims& victims, const Options& options)
      : bed_(bed), agent_(agent), victims_(victims), options_(options) {}

  v1::InjectRequest request(const v1::FaultSpec& spec, const std::string& experiment) const {
    v1::InjectRequest result = inject_request(spec, experiment);
    result.set_verify(options_.verify);
    return result;
  }

  // One inject + revert of `kind`; failures recorded, never thrown.
  void cycle(const std::string& kind, const std::string& experiment, KindSamples& samples) {
    const v1::InjectRequest inject = request(spec_for(kind, bed_, victims_), experiment);
    v1::InjectResponse injected;
    auto started = Steady::now();
    grpc::Status status = agent_.inject(inject, &injected);
    const double inject_ms = ms_since(started);
    if (!status.ok()) {
      samples.failed("inject: " + status.error_message());
      return;
    }
    v1::RevertResponse reverted;
    started = Steady::now();
    status = agent_.revert(injected.fault().id(), &reverted);
    const double revert_ms = ms_since(started);
    if (!status.ok()) {
      samples.failed("revert: " + status.error_message());
      return;
    }
    if (reverted.fault().state() != v1::FAULT_STATE_REVERTED) {
      samples.failed("revert: fault " + reverted.fault().id() + " not reverted: " + reverted.fault().error());
      return;
    }
    ++samples.cycles;
    samples.inject_ms.push_back(inject_ms);
    samples.revert_ms.push_back(revert_ms);
    ++samples.effects[effect_name(injected.fault().effect())];
    if (injected.fault().has_time_to_effect()) {
      samples.time_to_effect_ms.push_back(ms(injected.fault().time_to_effect()));
    }
    if (reverted.fault().has_time_to_gone()) samples.time_to_gone_ms.push_back(ms(reverted.fault().time_to_gone()));
  }

  nlohmann::json kind_json(const std::string& kind, const KindSamples& samples) const {
    nlohmann::json result = {{"kind", kind}, {"cycles", samples.cycles}, {"failures", samples.failures}};
    if (samples.cycles == 0) {
      result["failed"] = samples.errors.empty() ? "no cycle ran" : samples.errors.front();
      return result;
    }
    if (!samples.errors.empty()) result["errors"] = samples.errors;
    result["inject_ms"] = stats(samples.inject_ms);
    result["time_to_effect_ms"] = stats(samples.time_to_effect_ms);
    result["revert_ms"] = stats(samples.revert_ms);
    result["time_to_gone_ms"] = stats(samples.time_to_gone_ms);
    result["effects"] = samples.effects;
    result["effect_p99_under_goal"] = p99_under(samples.time_to_effect_ms, options_.goal_ms);
    result["gone_p99_under_goal"] = p99_under(samples.time_to_gone_ms, options_.goal_ms);
    return result;
  }

  // RevertAll of one experiment: the agent compares the system with its
  // snapshot from before the experiment's first fault here.
  nlohmann::json revert_all(const std::string& experiment) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
    v1::RevertAllRequest request;
    request.set_experiment_id(experiment);
    v1::RevertAllResponse response;
    const auto started = Steady::now();
    const grpc::Status status = agent_.stub().RevertAll(&context, request, &response);
    nlohmann::json result = {{"ms", ms_since(started)}};
    if (!status.ok()) {
      result["error"] = status.error_message();
      return result;
    }
    int not_reverted = 0;
    for (const auto& fault : response.faults()) not_reverted += fault.state() != v1::FAULT_STATE_REVERTED;
    const auto& leftovers = response.leftovers();
    nlohmann::json lines = nlohmann::json::array();
    for (const auto& change : leftovers.leftovers()) {
      if (lines.size() < kMaxErrors) lines.push_back(change.source() + " " + change.change() + ": " + change.line());
    }
    result.update({{"faults_not_reverted", not_reverted},
                   {"checked", leftovers.checked()},
                   {"leftovers", leftovers.leftovers_size()},
                   {"leftover_lines", lines},
                   {"foreign_changes", leftovers.foreign_size()},
                   {"errors", std::vector<std::string>(leftovers.errors().begin(), leftovers.errors().end())}});
    return result;
  }

  // The first fault of fresh experiments (process.pause, the cheapest kind):
  // its inject waits for the leftover detector's snapshot.
  nlohmann::json first_faults() {
    std::vector<double> inject_ms, time_to_effect_ms, revert_all_ms;
    std::vector<std::string> errors;
    int leftovers = 0;
    for (int i = 0; i < options_.first_fault_samples; ++i) {
      const std::string experiment = "proof-bench-first-" + std::to_string(i);
      v1::InjectResponse injected;
      const auto started = Steady::now();
      grpc::Status status = agent_.inject(request(pause_spec(victims_.get("pause")), experiment), &injected);
      const double elapsed = ms_since(started);
      if (!status.ok()) {
        if (errors.size() < kMaxErrors) errors.push_back("inject: " + status.error_message());
        continue;
      }
      inject_ms.push_back(elapsed);
      if (injected.fault().has_time_to_effect()) time_to_effect_ms.push_back(ms(injected.fault().time_to_effect()));
      status = agent_.revert(injected.fault().id());
      if (!status.ok() && errors.size() < kMaxErrors) errors.push_back("revert: " + status.error_message());
      const nlohmann::json all = revert_all(experiment);
      revert_all_ms.push_back(all["ms"].get<double>());
      leftovers += all.value("leftovers", 0);
      if (all.contains("error") && errors.size() < kMaxErrors) {
        errors.push_back("revert all: " + all["error"].get<std::string>());
      }
    }
    return {{"kind", "process.pause"},
            {"samples", inject_ms.size()},
            {"inject_ms", stats(inject_ms)},
            {"time_to_effect_ms", stats(time_to_effect_ms)},
            {"revert_all_with_leftover_check_ms", stats(revert_all_ms)},
            {"leftovers", leftovers},
            {"errors", errors}};
  }

  nlohmann::json run() {
    nlohmann::json result;
    // Cold start (first RPC, the agent's pools): not measured.
    KindSamples cold;
    cycle("process.pause", "proof-bench-cold", cold);
    (void)revert_all("proof-bench-cold");
    std::cerr << "proof_bench: first fault of " << options_.first_fault_samples << " fresh experiments\n";
    result["first_fault"] = first_faults();
    const std::string experiment = "proof-bench";
    KindSamples warmup;  // the experiment's first fault: takes its snapshot
    cycle("process.pause", experiment, warmup);
    if (warmup.cycles == 0) throw std::runtime_error("warm-up inject failed: " + warmup.errors.front());
    std::cerr << "proof_bench: " << options_.repetitions << " rounds of " << kinds().size() << " kinds\n";
    std::map<std::string, KindSamples> per_kind;
    const auto started = Steady::now();
    for (int round = 0; round < options_.repetitions; ++round) {
      for (const auto& kind : kinds()) {
        if (!per_kind[kind].given_up()) cycle(kind, experiment, per_kind[kind]);
      }
    }
    result["seconds"] = ms_since(started) / 1e3;
    nlohmann::json rows = nlohmann::json::array();
    bool all_under = true;
    for (const auto& kind : kinds()) {
      rows.push_back(kind_json(kind, per_kind[kind]));
      all_under = all_under && rows.back().value("effect_p99_under_goal", false) &&
                  rows.back().value("gone_p99_under_goal", false);
    }
    result["kinds"] = rows;
    result["all_kinds_under_goal"] = all_under;
    result["experiment_end"] = revert_all(experiment);
    return result;
  }

 private:
  AgentTestBed& bed_;
  NamespacedAgent& agent_;
  Victims& victims_;
  const Options options_;
};

const char* verify_name(v1::VerifyMode mode) {
  switch (mode) {
    case v1::VERIFY_MODE_BEST_EFFORT: return "best-effort";
    case v1::VERIFY_MODE_OFF: return "off";
    default: return "required";
  }
}

nlohmann::json run(const Options& options) {
  const TempDir dir("chaos-bench-proof-" + std::to_string(::getpid()));
  AgentTestBed bed;
  if (!bed.error().empty()) throw std::runtime_error(bed.error());
  chaos::testing::UdpEchoServer echo(bed.network().b(), kEchoPort);
  Victims victims(dir / "victims.log");
  (void)victims.get("pause");
  (void)victims.get("kill");
  auto baseline = bed.snapshot();
  if (!baseline.ok()) throw std::runtime_error(baseline.status().to_string());
  NamespacedAgent agent(bed.a(), (dir / "state").string(), (dir / "agent.log").string());
  if (!agent.start()) throw std::runtime_error("the agent did not start:\n" + agent.log());
  nlohmann::json result;
  {
    const Traffic traffic(bed.a(), options.traffic_gap_us);
    ProofBench bench(bed, agent, victims, options);
    result = bench.run();
  }
  result["clean_shutdown"] = agent.stop() == 0;
  result["left_after_shutdown"] = bed.diff_from(*baseline);
  return result;
}

}  // namespace

int main(int argc, char** argv) {
  std::string agent_binary = "build-bench/bin/chaos-agent";
  Options options;
  std::string verify = "required";
  CLI::App app{"Time to effect and time to gone per fault kind, beside the Inject / Revert RPC times (root)"};
  app.add_option("--agent-binary", agent_binary, "chaos-agent to start (BUILD_DIR/bin/chaos-agent)")
      ->capture_default_str();
  app.add_option("--repetitions", options.repetitions, "Inject + revert cycles per kind")->capture_default_str();
  app.add_option("--first-fault-samples", options.first_fault_samples,
                 "Fresh experiments whose first fault is timed (leftover snapshot included)")
      ->capture_default_str();
  app.add_option("--traffic-gap-us", options.traffic_gap_us,
                 "Gap between the UDP echoes A->B (every 4th also a DNS query); 0: no traffic")
      ->capture_default_str();
  app.add_option("--goal-ms", options.goal_ms, "p99 time to effect / to gone to stay under")->capture_default_str();
  app.add_option("--verify", verify, "InjectRequest.verify")
      ->check(CLI::IsMember({"required", "best-effort", "off"}))
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  options.verify = verify == "off"           ? v1::VERIFY_MODE_OFF
                   : verify == "best-effort" ? v1::VERIFY_MODE_BEST_EFFORT
                                             : v1::VERIFY_MODE_REQUIRED;
  nlohmann::json result = {{"benchmark", "proof"},
                           {"repetitions", options.repetitions},
                           {"verify", verify_name(options.verify)},
                           {"goal_ms", options.goal_ms},
                           {"traffic_gap_us", options.traffic_gap_us}};
  if (geteuid() != 0) {
    result["skipped"] = "needs root (network namespaces)";
    bench::emit(result);
    return 0;
  }
  try {
    // The harness starts $CHAOS_BUILD_DIR/bin/chaos-agent.
    const auto binary = std::filesystem::absolute(agent_binary);
    if (binary.parent_path().filename() != "bin") {
      throw std::runtime_error("--agent-binary must be DIR/bin/chaos-agent");
    }
    ::setenv("CHAOS_BUILD_DIR", binary.parent_path().parent_path().c_str(), 1);
    result.update(run(options));
  } catch (const std::exception& error) {
    result["skipped"] = std::string("failed: ") + error.what();
  }
  bench::emit(result);
  return result.contains("skipped") ? 1 : 0;
}
