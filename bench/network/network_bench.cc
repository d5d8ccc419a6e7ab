// Network fault fidelity and engine overhead (root): builds the cnt-*
// namespaces of the integration tests (A linked to B), then measures, each
// against a baseline taken in the same run,
//   delay:      network.delay (the agent's fault kind, NFQUEUE engine here)
//               at 1/10/50/200 ms and 50 ms +- 10 ms normal jitter: RTT error
//               = measured - baseline median - requested, median and p99;
//               the same side by side (the baseline an undelayed echo port
//               probed in turn with the delayed one, in the same window),
//               also to the answer's kernel timestamp on A; and for the
//               one-way time A->B (B's kernel receive timestamp), which
//               leaves the receivers' wake-ups out;
//   loss:       network.loss (nftables) and the engine's Bernoulli loss at
//               1/10/20 % over N datagrams, with the 99 % Wilson interval;
//   throughput: TCP A->B (1 and 4 streams) with no fault and through the
//               engine at 0/1/10/50 ms: ratios to no fault and to the TCP
//               window bound (tcp_wmem/tcp_rmem/tcp_adv_win_scale read in
//               the same run), CPU per MTU-sized packet (the process's, the
//               engine thread's), and the RTT a 0 ms engine adds.
// Prints one JSON object (bench/README.md); numbers are reported, never
// asserted: timing belongs here, not in tests.
#include <sys/resource.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <fstream>
#include <iostream>
#include <thread>

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
// An echo port the delay does not cover: its probes, interleaved with the
// delayed ones, are the side-by-side baseline.
constexpr int kUndelayedEchoPort = 7009;
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

// The baselines taken before the faults, in the same run.
struct Baselines {
  double rtt_ms;      // RTT median, read by the probing thread
  double one_way_ms;  // one-way median A->B (B's kernel timestamp)
  const std::string& receiver_namespace;
};

std::vector<double> minus(const std::vector<double>& values, double subtrahend) {
  std::vector<double> result;
  result.reserve(values.size());
  for (double value : values) result.push_back(value - subtrahend);
  return result;
}

nlohmann::json delay_row(FaultKinds& kinds, const std::string& interface, int delay_ms, int jitter_ms,
                         int probes, const Baselines& baselines) {
  auto spec = delay_spec(interface, delay_ms, jitter_ms);
  for (const int port : {kEchoPort, kOneWayPort}) spec.mutable_network_delay()->mutable_scope()->add_ports(port);
  auto fault = kinds.apply("network.delay", spec);
  // As in earlier rounds (which delayed the whole link; nothing else crosses
  // it in this window): the delayed port alone, against the baseline taken
  // before the faults.
  const auto rtts = bench::paced_rtts_ms(kAddressB, kEchoPort, probes, 5000);
  const auto one_way_ms =
      bench::paced_one_way_ms(baselines.receiver_namespace, kAddressB, kOneWayPort, probes, 5000);
  // Its own window, as the undelayed probes change how often the CPUs idle.
  const auto side_by_side = bench::paced_rtts(kAddressB, {kEchoPort, kUndelayedEchoPort}, probes, 5000);
  (void)fault->revert();
  const auto& delayed = side_by_side[0];
  const auto& beside = side_by_side[1];
  const auto beside_q = quantiles(beside.rtt_ms);
  const auto added_q = quantiles(minus(rtts, baselines.rtt_ms));
  nlohmann::json row = {
      {"requested_ms", delay_ms},
      {"jitter_ms", jitter_ms},
      {"backend", fault->backend()},
      {"probes", probes},
      {"answered", rtts.size()},
      {"rtt_ms", to_json(quantiles(rtts))},
      {"added_ms", to_json(added_q)},
      {"error_ms", to_json(quantiles(minus(rtts, baselines.rtt_ms + delay_ms)))},
      {"added_over_requested", bench::optional_number(bench::ratio(added_q.p50, delay_ms))},
      {"side_by_side", {{"answered", delayed.rtt_ms.size()}, {"baseline_rtt_ms", to_json(beside_q)}}},
      {"one_way_error_ms", to_json(quantiles(minus(one_way_ms, baselines.one_way_ms + delay_ms)))}};
  // No answers on a side, no figure (the summary shows n/a), rather than an
  // error against a median of nothing.
  auto& side = row["side_by_side"];
  if (!delayed.rtt_ms.empty() && !beside.rtt_ms.empty()) {
    side["error_ms"] = to_json(quantiles(minus(delayed.rtt_ms, beside_q.p50 + delay_ms)));
  }
  if (!delayed.to_kernel_ms.empty() && !beside.to_kernel_ms.empty()) {
    const auto beside_to_kernel_q = quantiles(beside.to_kernel_ms);
    side["baseline_rtt_to_kernel_ms"] = to_json(beside_to_kernel_q);
    side["to_kernel_error_ms"] = to_json(quantiles(minus(delayed.to_kernel_ms, beside_to_kernel_q.p50 + delay_ms)));
  }
  if (jitter_ms > 0) {
    row["stddev_over_requested"] = bench::optional_number(bench::ratio(added_q.stddev, jitter_ms));
  }
  const auto figure = [](const nlohmann::json& object, const char* key) {
    if (!object.contains(key)) return std::string("n/a");
    return object[key]["p50"].dump() + " / " + object[key]["p99"].dump();
  };
  std::cerr << "network_bench: delay " << delay_ms << " ms +- " << jitter_ms << ": median / p99 error "
            << figure(row, "error_ms") << " ms; side by side " << figure(side, "error_ms")
            << " ms, to the kernel's timestamp " << figure(side, "to_kernel_error_ms") << " ms; one way "
            << figure(row, "one_way_error_ms") << " ms\n";
  return row;
}

nlohmann::json delay_section(FaultKinds& kinds, const std::string& interface, const std::string& receiver_namespace,
                             const Options& options) {
  const int scale = options.quick ? 1 : 3;
  const auto baseline_q = quantiles(bench::paced_rtts_ms(kAddressB, kEchoPort, 200 * scale, 2000));
  const auto one_way_q =
      quantiles(bench::paced_one_way_ms(receiver_namespace, kAddressB, kOneWayPort, 200 * scale, 2000));
  const Baselines baselines{baseline_q.p50, one_way_q.p50, receiver_namespace};
  nlohmann::json rows = nlohmann::json::array();
  for (int delay_ms : {1, 10, 50, 200}) {
    rows.push_back(delay_row(kinds, interface, delay_ms, 0, 100 * scale, baselines));
  }
  rows.push_back(delay_row(kinds, interface, 50, 10, 200 * scale, baselines));
  return {{"baseline_rtt_ms", to_json(baseline_q)},
          {"baseline_one_way_ms", to_json(one_way_q)},
          {"rows", rows}};
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

// The TCP window bound of the issue: min(tcp_wmem max of the sender, the
// usable part of the receiver's tcp_rmem max) per round trip. Usable: all
// but 1/2^tcp_adv_win_scale of the buffer (2^scale of it when the scale is
// not positive). Read inside the namespaces (A sends, B receives).
struct TcpWindow {
  long wmem_max = 0;
  long rmem_max = 0;
  int adv_win_scale = 0;
  long bytes() const {
    const long usable = adv_win_scale > 0 ? rmem_max - (rmem_max >> adv_win_scale) : rmem_max >> -adv_win_scale;
    return std::min(wmem_max, usable);
  }
};

std::vector<long> sysctl_numbers(const std::string& name) {
  std::ifstream file("/proc/sys/net/ipv4/" + name);
  std::vector<long> numbers;
  for (long number = 0; file >> number;) numbers.push_back(number);
  return numbers;
}

TcpWindow tcp_window(const std::string& receiver_namespace) {
  TcpWindow window;
  if (const auto wmem = sysctl_numbers("tcp_wmem"); wmem.size() == 3) window.wmem_max = wmem[2];
  std::thread reader([&] {
    chaos::testing::NamespaceEntry in_receiver(receiver_namespace);
    if (const auto rmem = sysctl_numbers("tcp_rmem"); rmem.size() == 3) window.rmem_max = rmem[2];
    if (const auto scale = sysctl_numbers("tcp_adv_win_scale"); scale.size() == 1) {
      window.adv_win_scale = static_cast<int>(scale[0]);
    }
  });
  reader.join();
  return window;
}

std::chrono::nanoseconds process_cpu_time() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return std::chrono::seconds(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
         std::chrono::microseconds(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec);
}

// Payload of one MTU-sized packet on the test bed's link (1500 - IP - TCP
// with timestamps): CPU figures are per such packet ("segment"), whether
// the engine saw it alone or inside a GSO super-packet.
constexpr double kSegmentBytes = 1448;

struct ThroughputCase {
  std::string name;
  int delay_ms = -1;  // -1: no fault
  int streams = 1;
  bool resend_gso_whole = true;
  bool ingress = false;
  bool reinject = true;
};

nlohmann::json throughput_row(FaultKinds& kinds, chaos::testing::NetworkTestBed& bed, const ThroughputCase& test,
                              double seconds, std::optional<double> no_fault, const TcpWindow& window,
                              double baseline_rtt_ms) {
  std::unique_ptr<bench::SteeredEngine> engine;
  if (test.delay_ms >= 0) {
    agent::network::ImpairmentSpec impairment;
    impairment.delay = std::chrono::milliseconds(test.delay_ms);
    engine = std::make_unique<bench::SteeredEngine>(kinds.commands(), bed.link_a_to_b(),
                                                    agent::network::Protocol::kAny, impairment, test.ingress,
                                                    test.reinject, test.resend_gso_whole);
  }
  const auto cpu_before = process_cpu_time();
  const auto engine_before = engine ? engine->engine().thread_cpu_time() : std::chrono::nanoseconds{0};
  const auto queued_before = engine ? engine->engine().stats().received : 0;
  const auto bytes = bench::tcp_throughput_bytes_per_second(bed.b(), kAddressB, kTcpPort, seconds, test.streams);
  const double cpu_ns = static_cast<double>((process_cpu_time() - cpu_before).count());
  std::optional<double> mbit;
  if (bytes) mbit = *bytes * 8 / 1e6;
  std::cerr << "network_bench: TCP " << test.name << ": " << (mbit ? *mbit : -1) << " Mbit/s\n";
  nlohmann::json row = {
      {"case", test.name}, {"streams", test.streams}, {"mbit_per_second", bench::optional_number(mbit)}};
  if (test.delay_ms >= 0) row["delay_ms"] = test.delay_ms;
  std::optional<double> versus;
  if (mbit && no_fault) versus = bench::ratio(*mbit, *no_fault);
  if (mbit && test.delay_ms < 0) versus = 1.0;  // it is the no-fault figure
  row["ratio_to_no_fault"] = bench::optional_number(versus);
  if (test.delay_ms > 0) {
    const double rtt_seconds = (test.delay_ms + baseline_rtt_ms) / 1000;
    const double bound = static_cast<double>(window.bytes()) * 8 / rtt_seconds / 1e6 * test.streams;
    row["window_bound_mbit_per_second"] = bound;
    row["ratio_to_window_bound"] = bench::optional_number(mbit ? bench::ratio(*mbit, bound) : std::nullopt);
  }
  if (bytes && *bytes > 0) {
    const double segments = *bytes * seconds / kSegmentBytes;
    nlohmann::json cpu = {{"process_cpu_ns_per_segment", cpu_ns / segments}};
    if (engine) {
      const double engine_ns = static_cast<double>((engine->engine().thread_cpu_time() - engine_before).count());
      const auto queued = engine->engine().stats().received - queued_before;
      cpu["engine_thread_ns_per_segment"] = engine_ns / segments;
      cpu["engine_segments_per_core_second"] = engine_ns > 0 ? 1e9 * segments / engine_ns : 0.0;
      cpu["engine_queued_packets"] = queued;
      cpu["engine_thread_ns_per_queued_packet"] = queued > 0 ? engine_ns / static_cast<double>(queued) : 0.0;
    }
    row["cpu"] = cpu;
  }
  return row;
}

nlohmann::json throughput_section(FaultKinds& kinds, chaos::testing::NetworkTestBed& bed, const Options& options) {
  const double seconds = options.quick ? 1.5 : 4;
  const auto interface = bed.link_a_to_b();
  const auto window = tcp_window(bed.b());
  const auto baseline_rtt = quantiles(bench::paced_rtts_ms(kAddressB, kEchoPort, 500, 1000));
  nlohmann::json rows = nlohmann::json::array();
  const auto run = [&](const ThroughputCase& test, std::optional<double> no_fault) -> std::optional<double> {
    rows.push_back(throughput_row(kinds, bed, test, seconds, no_fault, window, baseline_rtt.p50));
    const auto& mbit = rows.back()["mbit_per_second"];
    if (!mbit.is_number()) return std::nullopt;
    return mbit.get<double>();
  };
  const auto none = run({"no fault"}, std::nullopt);
  const auto none4 = run({"no fault, 4 streams", -1, 4}, std::nullopt);
  nlohmann::json added_latency;
  for (int delay_ms : {0, 1, 10, 50}) {
    run({"engine " + std::to_string(delay_ms) + " ms", delay_ms}, none);
  }
  run({"engine 10 ms, 4 streams", 10, 4}, none4);
  {
    bench::SteeredEngine engine(kinds.commands(), interface, agent::network::Protocol::kAny, {});
    const auto through = quantiles(bench::paced_rtts_ms(kAddressB, kEchoPort, 500, 1000));
    added_latency = {{"baseline_rtt_ms", to_json(baseline_rtt)}, {"engine_0ms_rtt_ms", to_json(through)},
                     {"added_p50_ms", through.p50 - baseline_rtt.p50}, {"added_p99_ms", through.p99 - baseline_rtt.p99}};
  }
  // Controls: the same 10 ms re-sending segment by segment (the kernel
  // segments before queueing; how the engine worked before GsoPacketSender),
  // and, for why the engine re-sends packets of local sockets at all (see
  // agent/faults/network/engine/packet_holder.h), with every packet waiting
  // in the kernel for its verdict (charged to the sending socket), and on
  // the ACK path (ingress on A), where no held packet belongs to a local
  // socket.
  run({"engine 10 ms, re-sent segment by segment (no GSO)", 10, 1, false}, none);
  run({"engine 10 ms, verdicts only (no re-send)", 10, 1, true, false, false}, none);
  run({"engine 10 ms on the ACK path, verdicts only", 10, 1, true, true, false}, none);
  return {{"seconds_per_case", seconds},
          {"tcp_window", {{"tcp_wmem_max", window.wmem_max}, {"tcp_rmem_max", window.rmem_max},
                          {"tcp_adv_win_scale", window.adv_win_scale}, {"window_bytes", window.bytes()},
                          {"rtt_for_bound", "requested delay + baseline_rtt_ms.p50"}}},
          {"rows", rows}, {"added_latency", added_latency}};
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
    chaos::testing::UdpEchoServer undelayed_echo(bed.b(), kUndelayedEchoPort);
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
