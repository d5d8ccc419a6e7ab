// NFQUEUE engine fidelity and overhead (root): builds the cnt-* namespaces
// of the integration tests, then measures
//   1. RTT percentiles under a 50 ms delay (error of the median and p99),
//   2. the spread of a 20 ms +- 5 ms normal jitter,
//   3. datagram throughput A->B with and without the engine in the path.
// Numbers are printed, not asserted: timing belongs here, not in tests.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <memory>
#include <stdexcept>
#include <thread>

#include "agent/faults/network/engine/nfqueue_engine.h"
#include "agent/faults/network/rules/iptables_steering.h"
#include "agent/faults/network/rules/object_names.h"
#include "tests/integration/network/network_test_bed.h"

namespace {

using namespace chaos::agent::network;
using chaos::testing::kAddressB;

constexpr int kEchoPort = 7007;
constexpr int kSinkPort = 7011;
constexpr std::uint16_t kQueue = 31888;

struct Percentiles {
  double p50, p99, mean, stddev;
};

Percentiles percentiles(const std::vector<std::optional<double>>& rtts) {
  std::vector<double> values;
  for (const auto& rtt : rtts) {
    if (rtt) values.push_back(*rtt);
  }
  if (values.empty()) return {};
  std::sort(values.begin(), values.end());
  double sum = 0, squares = 0;
  for (double v : values) sum += v;
  const double mean = sum / static_cast<double>(values.size());
  for (double v : values) squares += (v - mean) * (v - mean);
  return {values[values.size() / 2], values[values.size() * 99 / 100], mean,
          std::sqrt(squares / static_cast<double>(values.size()))};
}

class Steered {
 public:
  Steered(chaos::CommandRunner& commands, const std::string& interface, const ImpairmentSpec& impairment)
      : commands_(commands) {
    auto engine = NfqueueEngine::start(EngineOptions{kQueue, impairment, 1, 1 << 16, kBypassMark, 10});
    if (!engine.ok()) throw std::runtime_error(engine.status().to_string());
    engine_ = std::move(engine).value();
    TrafficScope scope;
    scope.interface = interface;
    scope.protocol = Protocol::kUdp;
    auto status = install_steering(commands_, SteeringPlan{"CHAOS-bench-O", "CHAOS-bench-I", scope, {},
                                                           SteeringTarget{SteeringTarget::Kind::kQueue, kQueue, ""}});
    if (!status.ok()) throw std::runtime_error(status.to_string());
  }
  ~Steered() { (void)remove_steering(commands_, "CHAOS-bench-O", "CHAOS-bench-I"); }
  EngineStats stats() const { return engine_->stats(); }

 private:
  chaos::CommandRunner& commands_;
  std::unique_ptr<NfqueueEngine> engine_;
};

// Datagrams per second that reach B when A sends as fast as it can.
double throughput_pps(int seconds) {
  const int fd = socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(kSinkPort);
  inet_pton(AF_INET, kAddressB, &to.sin_addr);
  connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof(to));
  char payload[64] = {};
  const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  std::uint64_t sent = 0;
  while (std::chrono::steady_clock::now() < end) {
    if (send(fd, payload, sizeof(payload), 0) > 0) ++sent;
  }
  ::close(fd);
  return static_cast<double>(sent) / seconds;
}

void print(const char* label, const Percentiles& p) {
  std::printf("%-34s p50 %8.3f ms  p99 %8.3f ms  mean %8.3f ms  stddev %7.3f ms\n", label, p.p50, p.p99, p.mean,
              p.stddev);
}

}  // namespace

int main() {
  if (geteuid() != 0) {
    std::fprintf(stderr, "nfqueue_bench: needs root (network namespaces)\n");
    return 2;
  }
  chaos::testing::NetworkTestBed bed;
  if (!bed.ok()) return 1;
  chaos::testing::UdpEchoServer echo(bed.b(), kEchoPort);
  chaos::testing::UdpEchoServer sink(bed.b(), kSinkPort);
  chaos::testing::NamespaceEntry in_a(bed.a());
  chaos::ProcessCommandRunner commands;

  print("baseline RTT", percentiles(chaos::testing::measure_rtts_ms(kAddressB, kEchoPort, 500, 1000)));
  {
    ImpairmentSpec spec;
    spec.delay = std::chrono::milliseconds(50);
    Steered steered(commands, bed.link_a_to_b(), spec);
    print("delay 50ms RTT", percentiles(chaos::testing::measure_rtts_ms(kAddressB, kEchoPort, 300, 2000)));
    const auto stats = steered.stats();
    std::printf("%-34s %8.3f ms mean lateness of the engine's verdicts\n", "",
                static_cast<double>(stats.lateness_ns_total) / 1e6 / static_cast<double>(std::max<std::uint64_t>(stats.released, 1)));
  }
  {
    ImpairmentSpec spec;
    spec.delay = std::chrono::milliseconds(20);
    spec.jitter = std::chrono::milliseconds(5);
    spec.distribution = JitterDistribution::kNormal;
    Steered steered(commands, bed.link_a_to_b(), spec);
    print("delay 20ms +-5ms normal RTT", percentiles(chaos::testing::measure_rtts_ms(kAddressB, kEchoPort, 500, 2000)));
  }
  std::uint64_t sink_before = sink.received();
  const double direct = throughput_pps(2);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  const auto direct_delivered = sink.received() - sink_before;
  double through_engine = 0;
  EngineStats stats;
  {
    ImpairmentSpec spec;
    spec.delay = std::chrono::milliseconds(1);
    Steered steered(commands, bed.link_a_to_b(), spec);
    sink_before = sink.received();
    through_engine = throughput_pps(2);
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    stats = steered.stats();
  }
  std::printf("send rate without engine           %10.0f datagrams/s; sink got %llu\n", direct,
              static_cast<unsigned long long>(direct_delivered));
  std::printf("send rate through engine (1ms)     %10.0f datagrams/s; engine saw %llu, sink got %llu\n",
              through_engine, static_cast<unsigned long long>(stats.received),
              static_cast<unsigned long long>(sink.received() - sink_before));
  return 0;
}
