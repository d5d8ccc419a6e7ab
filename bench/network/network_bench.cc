// Network fault fidelity and engine overhead (root): builds the cnt-*
// namespaces of the integration tests (A linked to B), then measures, each
// against a baseline taken in the same run,
//   delay:      network.delay (the agent's fault kind, NFQUEUE engine here)
//               at 1/10/50/200 ms and 50 ms +- 10 ms normal jitter: RTT error
//               = measured - baseline median - requested, median and p99;
//               and the same for the one-way time A->B (B's kernel receive
//               timestamp), which leaves the receivers' wake-ups out;
//   loss:       network.loss (nftables) and the engine's Bernoulli loss at
//               1/10/20 % over N datagrams, with the 99 % Wilson interval;
//   throughput: one TCP stream A->B with no fault, a 0 ms and a 10 ms engine
//               fault (ratios), and the RTT a 0 ms engine adds.
// Prints one JSON object (bench/README.md); numbers are reported, never
// asserted: timing belongs here, not in tests.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <iostream>

#include "agent/faults/network/network_fault_kinds.h"
#include "bench/network/steered_engine.h"
#include "bench/network/traffic.h"
#include "bench/support/json_out.h"
#include "lab/testbed/network_test_bed.h"

namespace {

using namespace chaos;
using chaos::bench::quantiles;
using chaos::bench::to_json;
using chaos::testing::kAddressB;

constexpr int kEchoPort = 7007;
constexpr int kOneWayPort = 7008;
constexpr int kTcpPort = 7021;

struct Options {
  bool quick = false;
  bool throughput_only = false;
  bool delay_only = false;
  int loss_packets = 10'000;
};

class FaultKinds {
 public:
  FaultKinds() {
    env_.commands = &commands_;
    env_.clock = &clock_;
    kinds_ = agent::make_network_fault_kinds(env_);
  }
  std::unique_ptr<agent::LiveFault> apply(const std::string& name, const v1::FaultSpec& spec) {
    for (auto& kind : kinds_) {
      if (kind->name() != name) continue;
      auto live = kind->apply(spec, agent::FaultContext{"bench-" + std::to_string(++sequence_), "bench", {}});
      if (!live.ok()) throw std::runtime_error(name + ": " + live.status().to_string());
      return std::move(live).value();
    }
    throw std::runtime_error("no fault kind " + name);
  }
  CommandRunner& commands() { return commands_; }

 private:
  ProcessCommandRunner commands_;
  SystemClock clock_;
  agent::AgentEnvironment env_;
  std::vector<std::unique_ptr<agent::FaultKind>> kinds_;
  int sequence_ = 0;
};

v1::FaultSpec delay_spec(const std::string& interface, int delay_ms, int jitter_ms) {
  v1::FaultSpec spec;
  auto* delay = spec.mutable_network_delay();
  delay->mutable_delay()->set_seconds(delay_ms / 1000);
  delay->mutable_delay()->set_nanos((delay_ms % 1000) * 1'000'000);
  delay->mutable_jitter()->set_nanos(jitter_ms * 1'000'000);
  if (jitter_ms > 0) delay->set_distribution(v1::NetworkDelay::DISTRIBUTION_NORMAL);
  delay->mutable_scope()->set_interface(interface);
  return spec;
}

// The delay line alone (bench/network/traffic.h): one-way time minus the
// baseline's median one-way time minus the request.
struct OneWay {
  const std::string& receiver_namespace;
  double baseline_ms;
};

nlohmann::json delay_row(FaultKinds& kinds, const std::string& interface, int delay_ms, int jitter_ms,
                         int probes, double baseline_ms, const OneWay& one_way) {
  auto fault = kinds.apply("network.delay", delay_spec(interface, delay_ms, jitter_ms));
  const auto rtts = bench::paced_rtts_ms(kAddressB, kEchoPort, probes, 5000);
  const auto one_way_ms = bench::paced_one_way_ms(one_way.receiver_namespace, kAddressB, kOneWayPort, probes, 5000);
  (void)fault->revert();
  std::vector<double> one_way_errors;
  for (double time : one_way_ms) one_way_errors.push_back(time - one_way.baseline_ms - delay_ms);
  std::vector<double> added, errors;
  for (double rtt : rtts) {
    added.push_back(rtt - baseline_ms);
    errors.push_back(rtt - baseline_ms - delay_ms);
  }
  const auto added_q = quantiles(added);
  nlohmann::json row = {{"requested_ms", delay_ms}, {"jitter_ms", jitter_ms}, {"backend", fault->backend()},
                        {"probes", probes}, {"answered", rtts.size()}, {"rtt_ms", to_json(quantiles(rtts))},
                        {"added_ms", to_json(added_q)}, {"error_ms", to_json(quantiles(errors))},
                        {"added_over_requested", bench::optional_number(bench::ratio(added_q.p50, delay_ms))},
                        {"one_way_error_ms", to_json(quantiles(one_way_errors))}};
  if (jitter_ms > 0) {
    row["stddev_over_requested"] = bench::optional_number(bench::ratio(added_q.stddev, jitter_ms));
  }
  std::cerr << "network_bench: delay " << delay_ms << " ms +- " << jitter_ms << ": median error "
            << row["error_ms"]["p50"] << " ms, p99 error " << row["error_ms"]["p99"] << " ms; one way: median error "
            << row["one_way_error_ms"]["p50"] << " ms, p99 error " << row["one_way_error_ms"]["p99"] << " ms\n";
  return row;
}

nlohmann::json delay_section(FaultKinds& kinds, const std::string& interface, const std::string& receiver_namespace,
                             const Options& options) {
  const int scale = options.quick ? 1 : 3;
  const auto baseline = bench::paced_rtts_ms(kAddressB, kEchoPort, 200 * scale, 2000);
  const auto baseline_q = quantiles(baseline);
  const auto one_way_q =
      quantiles(bench::paced_one_way_ms(receiver_namespace, kAddressB, kOneWayPort, 200 * scale, 2000));
  const OneWay one_way{receiver_namespace, one_way_q.p50};
  nlohmann::json rows = nlohmann::json::array();
  for (int delay_ms : {1, 10, 50, 200}) {
    rows.push_back(delay_row(kinds, interface, delay_ms, 0, 100 * scale, baseline_q.p50, one_way));
  }
  rows.push_back(delay_row(kinds, interface, 50, 10, 200 * scale, baseline_q.p50, one_way));
  return {{"baseline_rtt_ms", to_json(baseline_q)}, {"baseline_one_way_ms", to_json(one_way_q)}, {"rows", rows}};
}

nlohmann::json loss_row(const std::string& backend, double percent, int packets, int echoed) {
  const long lost = packets - echoed;
  const auto interval = bench::wilson_interval(lost, packets);
  const double requested = percent / 100;
  return {{"backend", backend}, {"requested_percent", percent}, {"packets", packets}, {"lost", lost},
          {"measured_percent", 100.0 * static_cast<double>(lost) / packets},
          {"interval99_percent", {100 * interval.low, 100 * interval.high}},
          {"requested_inside_interval", interval.contains(requested)},
          {"measured_over_requested", bench::optional_number(bench::ratio(static_cast<double>(lost) / packets, requested))}};
}

nlohmann::json loss_section(FaultKinds& kinds, const std::string& interface, const Options& options) {
  const int packets = options.loss_packets;
  const int baseline_echoed = chaos::testing::count_echoes(kAddressB, kEchoPort, packets, 50);
  nlohmann::json rows = nlohmann::json::array();
  for (double percent : {1.0, 10.0, 20.0}) {
    v1::FaultSpec spec;
    spec.mutable_network_loss()->set_percent(percent);
    spec.mutable_network_loss()->mutable_scope()->set_interface(interface);
    auto fault = kinds.apply("network.loss", spec);
    const int echoed = chaos::testing::count_echoes(kAddressB, kEchoPort, packets, 50);
    (void)fault->revert();
    rows.push_back(loss_row(fault->backend(), percent, packets, echoed));
    agent::network::ImpairmentSpec impairment;
    impairment.loss_probability = percent / 100;
    int engine_echoed = 0;
    {
      bench::SteeredEngine engine(kinds.commands(), interface, agent::network::Protocol::kUdp, impairment);
      engine_echoed = chaos::testing::count_echoes(kAddressB, kEchoPort, packets, 50);
    }
    rows.push_back(loss_row("nfqueue", percent, packets, engine_echoed));
    std::cerr << "network_bench: loss " << percent << " %: nftables " << rows[rows.size() - 2]["measured_percent"]
              << " %, engine " << rows.back()["measured_percent"] << " %\n";
  }
  return {{"baseline", {{"packets", packets}, {"lost", packets - baseline_echoed}}}, {"rows", rows}};
}

std::optional<double> tcp_mbit_per_second(const std::string& name, const std::string& peer_namespace,
                                          double seconds) {
  const auto bytes = bench::tcp_throughput_bytes_per_second(peer_namespace, kAddressB, kTcpPort, seconds);
  std::cerr << "network_bench: TCP " << name << ": " << (bytes ? *bytes * 8 / 1e6 : -1) << " Mbit/s\n";
  if (!bytes) return std::nullopt;
  return *bytes * 8 / 1e6;
}

nlohmann::json throughput_row(const std::string& name, std::optional<double> mbit, std::optional<double> baseline) {
  std::optional<double> versus;
  if (mbit && baseline) versus = bench::ratio(*mbit, *baseline);
  return {{"case", name}, {"mbit_per_second", bench::optional_number(mbit)},
          {"ratio_to_no_fault", bench::optional_number(versus)}};
}

nlohmann::json throughput_section(FaultKinds& kinds, chaos::testing::NetworkTestBed& bed, const Options& options) {
  const double seconds = options.quick ? 1.5 : 4;
  const auto interface = bed.link_a_to_b();
  nlohmann::json rows = nlohmann::json::array();
  const auto none = tcp_mbit_per_second("no fault", bed.b(), seconds);
  rows.push_back(throughput_row("no fault", none, none));
  const auto baseline_rtt = quantiles(bench::paced_rtts_ms(kAddressB, kEchoPort, 500, 1000));
  nlohmann::json added_latency;
  for (int delay_ms : {0, 10}) {
    agent::network::ImpairmentSpec impairment;
    impairment.delay = std::chrono::milliseconds(delay_ms);
    bench::SteeredEngine engine(kinds.commands(), interface, agent::network::Protocol::kAny, impairment);
    const std::string name = "engine " + std::to_string(delay_ms) + " ms";
    rows.push_back(throughput_row(name, tcp_mbit_per_second(name, bed.b(), seconds), none));
    if (delay_ms == 0) {
      const auto through = quantiles(bench::paced_rtts_ms(kAddressB, kEchoPort, 500, 1000));
      added_latency = {{"baseline_rtt_ms", to_json(baseline_rtt)}, {"engine_0ms_rtt_ms", to_json(through)},
                       {"added_p50_ms", through.p50 - baseline_rtt.p50}, {"added_p99_ms", through.p99 - baseline_rtt.p99}};
    }
  }
  // Controls for why the engine re-sends packets of local sockets (see
  // agent/faults/network/engine/packet_holder.h): the same 10 ms with every
  // packet waiting in the kernel for its verdict (charged to the sending
  // socket), and the same 10 ms on the ACK path (ingress on A), where no
  // held packet belongs to a local socket.
  for (const bool ingress : {false, true}) {
    agent::network::ImpairmentSpec impairment;
    impairment.delay = std::chrono::milliseconds(10);
    bench::SteeredEngine engine(kinds.commands(), interface, agent::network::Protocol::kAny, impairment, ingress,
                                false);
    const std::string name = ingress ? "engine 10 ms on the ACK path, verdicts only"
                                     : "engine 10 ms, verdicts only (no re-send)";
    rows.push_back(throughput_row(name, tcp_mbit_per_second(name, bed.b(), seconds), none));
  }
  return {{"seconds_per_case", seconds}, {"rows", rows}, {"added_latency", added_latency}};
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  CLI::App app{"Delay and loss fidelity and NFQUEUE engine throughput, in namespaces (root)"};
  app.add_flag("--quick", options.quick, "Fewer probes and shorter streams");
  app.add_flag("--throughput-only", options.throughput_only, "Measure only the TCP throughput section");
  app.add_flag("--delay-only", options.delay_only, "Measure only the delay fidelity section")
      ->excludes("--throughput-only");
  app.add_option("--loss-packets", options.loss_packets, "Datagrams per loss measurement")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  nlohmann::json result = {{"benchmark", "network"}};
  if (geteuid() != 0) {
    result["skipped"] = "needs root (network namespaces)";
    bench::emit(result);
    return 0;
  }
  try {
    chaos::testing::NetworkTestBed bed;
    if (!bed.ok()) throw std::runtime_error("could not build the namespaces");
    chaos::testing::UdpEchoServer echo(bed.b(), kEchoPort);
    chaos::testing::NamespaceEntry in_a(bed.a());
    FaultKinds kinds;
    if (!options.throughput_only) {
      result["delay"] = delay_section(kinds, bed.link_a_to_b(), bed.b(), options);
      if (!options.delay_only) result["loss"] = loss_section(kinds, bed.link_a_to_b(), options);
    }
    if (!options.delay_only) result["throughput"] = throughput_section(kinds, bed, options);
  } catch (const std::exception& error) {
    result["skipped"] = std::string("failed: ") + error.what();
  }
  bench::emit(result);
  return result.contains("skipped") ? 1 : 0;
}
