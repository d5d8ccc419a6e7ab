#include "lab/testbed/soak_workload.h"

#include <atomic>
#include <barrier>
#include <chrono>
#include <mutex>
#include <thread>

namespace chaos::agent::integration {

namespace {

using chaos::testing::kAddressB;

constexpr int kKinds = 5;
constexpr std::size_t kMaxMessages = 20;

enum class Kind { kDelay, kLoss, kPartition, kDns, kPause };

const char* kind_name(Kind kind) {
  switch (kind) {
    case Kind::kDelay: return "network.delay";
    case Kind::kLoss: return "network.loss";
    case Kind::kPartition: return "network.partition";
    case Kind::kDns: return "dns.fail";
    case Kind::kPause: return "process.pause";
  }
  return "?";
}

// Ports 21000 + 100 * kind + client: no two clients' network faults overlap
// (engine faults with overlapping scopes would be refused).
v1::FaultSpec spec_for(Kind kind, int client, AgentTestBed& bed, pid_t victim) {
  const std::string link = bed.network().link_a_to_b();
  const std::string peer = std::string(kAddressB) + "/32";
  const int port = 21000 + 100 * static_cast<int>(kind) + client;
  switch (kind) {
    case Kind::kDelay: return delay_spec(network_scope(link, {peer}, {port}), 5);
    case Kind::kLoss: return loss_spec(network_scope(link, {peer}, {port}), 10);
    case Kind::kPartition: return partition_spec({peer}, network_scope("", {}, {port}));
    case Kind::kDns: return dns_fail_spec("client" + std::to_string(client) + ".lab");
    case Kind::kPause: return pause_spec(victim);
  }
  return {};
}

class Recorder {
 public:
  void failure(std::string message) {
    std::lock_guard lock(mutex_);
    ++failed_;
    if (errors_.size() < kMaxMessages) errors_.push_back(std::move(message));
  }
  void leftover(std::string diff) {
    std::lock_guard lock(mutex_);
    if (leftovers_.size() < kMaxMessages) leftovers_.push_back(std::move(diff));
  }
  void into(SoakResult& result) {
    std::lock_guard lock(mutex_);
    result.failed_calls = failed_;
    result.errors = errors_;
    result.leftovers = leftovers_;
  }

 private:
  std::mutex mutex_;
  int failed_ = 0;
  std::vector<std::string> errors_;
  std::vector<std::string> leftovers_;
};

}  // namespace

ProcessFigures process_figures(pid_t pid) {
  return {proc_status_value(pid, "Threads"), proc_status_value(pid, "VmRSS")};
}

SoakResult run_soak(AgentTestBed& bed, NamespacedAgent& agent, const chaos::testing::NodeStateSnapshot& baseline,
                    const std::vector<pid_t>& victims, const SoakOptions& options) {
  SoakResult result;
  Recorder recorder;
  std::atomic<bool> dns_busy{false};
  std::atomic<int> measured_cycles{0};
  const int every = std::max(1, options.quiet_point_every);
  auto quiet_points_in = [&](int cycles) { return cycles <= 0 ? 0 : (cycles + every - 1) / every; };
  const int warmup_quiet_points = quiet_points_in(options.warmup_cycles_per_client);
  const int total_quiet_points = warmup_quiet_points + quiet_points_in(options.cycles_per_client);
  std::chrono::steady_clock::time_point measured_from = std::chrono::steady_clock::now();
  int quiet_point = 0;

  // Runs on the last client to arrive, while every other client waits: no
  // fault of this workload is live.
  auto at_quiet_point = [&]() noexcept {
    ++quiet_point;
    result.at_quiet_points.push_back(process_figures(agent.pid()));
    const std::string diff = bed.diff_from(baseline, victims);
    if (!diff.empty()) recorder.leftover("quiet point " + std::to_string(quiet_point) + ":\n" + diff);
    if (quiet_point == warmup_quiet_points) {
      result.after_warmup = process_figures(agent.pid());
      measured_from = std::chrono::steady_clock::now();
    }
    if (quiet_point == total_quiet_points) {
      result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - measured_from).count();
      result.at_end = process_figures(agent.pid());
    }
  };
  std::barrier quiet(options.clients, at_quiet_point);
  if (warmup_quiet_points == 0) result.after_warmup = process_figures(agent.pid());

  auto client = [&](int c) {
    auto stub = v1::Agent::NewStub(agent.new_channel());
    int cycle = 0;
    auto one_cycle = [&](bool measured) {
      Kind kind = static_cast<Kind>((cycle + c) % kKinds);
      bool holds_dns = false;
      if (kind == Kind::kDns) {
        holds_dns = !dns_busy.exchange(true);
        if (!holds_dns) kind = Kind::kPause;
      }
      const std::string where =
          "client " + std::to_string(c) + " cycle " + std::to_string(cycle) + " " + kind_name(kind);
      grpc::ClientContext inject_context;
      inject_context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
      v1::InjectResponse injected;
      const auto status = stub->Inject(&inject_context,
                                       inject_request(spec_for(kind, c, bed, victims.at(static_cast<std::size_t>(c))),
                                                      "soak-client-" + std::to_string(c)),
                                       &injected);
      if (!status.ok()) {
        recorder.failure(where + " inject: " + status.error_message());
      } else {
        grpc::ClientContext revert_context;
        revert_context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
        v1::RevertRequest revert;
        revert.set_fault_id(injected.fault().id());
        v1::RevertResponse reverted;
        const auto revert_status = stub->Revert(&revert_context, revert, &reverted);
        if (!revert_status.ok()) recorder.failure(where + " revert: " + revert_status.error_message());
      }
      if (holds_dns) dns_busy = false;
      if (measured) ++measured_cycles;
      ++cycle;
    };
    auto run_cycles = [&](int count, bool measured) {
      for (int i = 0; i < count; ++i) {
        one_cycle(measured);
        if ((i + 1) % every == 0 || i + 1 == count) quiet.arrive_and_wait();
      }
    };
    run_cycles(options.warmup_cycles_per_client, false);
    run_cycles(options.cycles_per_client, true);
  };

  std::vector<std::thread> clients;
  for (int c = 0; c < options.clients; ++c) clients.emplace_back(client, c);
  for (auto& thread : clients) thread.join();
  result.cycles = measured_cycles;
  result.quiet_points = quiet_point;
  recorder.into(result);
  return result;
}

}  // namespace chaos::agent::integration
