// One TCP stream on 127.0.0.1 for --seconds: a sender writes 64 KiB
// chunks, a receiver counts them, in each round four times: direct;
// through the proxy engine with the pass-through filter as the agent runs
// it (recv()/send(), the path of every connection or direction a fault
// leaves alone); the same with the engine's splice() option on; and
// through the engine with a filter that is handed every byte and changes
// none (the copying path of a fault that reads the stream).
// The engine's fixed upstream stands in for the nft redirect, so no root
// is needed. Prints one JSON object with the rates and each path's ratio
// to direct (goal: proxied >= 50% of direct).
#include <CLI/CLI.hpp>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>

#include "bench/proxy/bench_engine.h"
#include "bench/proxy/stream_meter.h"

namespace {

using namespace chaos;
using namespace chaos::bench;

constexpr const char* kProxyBenchLoopback = "127.0.0.1";

// One stream through a fresh engine with `factory`; zeros when it cannot start.
StreamFigures proxied_rate(std::shared_ptr<agent::proxy::StreamFilterFactory> factory, double seconds, bool splice) {
  StreamReceiver receiver(stream_address(kProxyBenchLoopback, 0));
  agent::proxy::ProxyEngineOptions options;
  options.factory = std::move(factory);
  options.splice_pass_through = splice;
  options.fixed_upstream = std::string(kProxyBenchLoopback) + ":" + std::to_string(receiver.port());
  auto engine = start_metered_engine(std::move(options));
  if (!engine.ok()) {
    std::cerr << engine.status().message() << "\n";
    return {};
  }
  return measure_through(*engine, stream_address(kProxyBenchLoopback, engine->engine->port()), receiver, seconds);
}

StreamFigures direct_rate(double seconds) {
  StreamReceiver receiver(stream_address(kProxyBenchLoopback, 0));
  return measure_stream(stream_address(kProxyBenchLoopback, receiver.port()), receiver, seconds);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"proxy_bench: one TCP stream through the tcp.* proxy (pass-through, spliced, filtered) vs direct"};
  double seconds = 3;
  int rounds = 3;
  app.add_option("--seconds", seconds, "length of each stream")->check(CLI::Range(0.2, 60.0));
  app.add_option("--rounds", rounds, "streams per path (the round with the best rate is kept whole)")->check(CLI::Range(1, 20));
  CLI11_PARSE(app, argc, argv);

  RoundFigures direct;
  RoundFigures passed;
  RoundFigures spliced;
  RoundFigures copied;
  for (int round = 0; round < rounds; ++round) {
    const StreamFigures direct_now = direct_rate(seconds);
    keep_best(direct, direct_now, direct_now);
    keep_best(passed, proxied_rate(std::make_shared<PassThroughFactory>(), seconds, false), direct_now);
    keep_best(spliced, proxied_rate(std::make_shared<PassThroughFactory>(), seconds, true), direct_now);
    keep_best(copied, proxied_rate(std::make_shared<CopyingFactory>(), seconds, false), direct_now);
  }
  if (passed.path.bytes_per_second == 0 || spliced.path.bytes_per_second == 0 || copied.path.bytes_per_second == 0) {
    return 1;
  }
  const auto mbit = [](const RoundFigures& figures) { return figures.path.bytes_per_second * 8 / 1e6; };
  // Each path's figures are its best round's (by rate), whole; its ratio is
  // to the direct stream of that same round.
  nlohmann::json out = {{"benchmark", "proxy"},
                        {"seconds", seconds},
                        {"rounds", rounds},
                        {"direct_mbit_per_s", mbit(direct)},
                        {"pass_through_mbit_per_s", mbit(passed)},
                        {"spliced_mbit_per_s", mbit(spliced)},
                        {"copied_mbit_per_s", mbit(copied)},
                        {"pass_through_ratio", passed.ratio()},
                        {"spliced_ratio", spliced.ratio()},
                        {"copied_ratio", copied.ratio()},
                        {"direct_cpu_s_per_gib", direct.path.cpu_seconds_per_gib},
                        {"pass_through_cpu_s_per_gib", passed.path.cpu_seconds_per_gib},
                        {"spliced_cpu_s_per_gib", spliced.path.cpu_seconds_per_gib},
                        {"copied_cpu_s_per_gib", copied.path.cpu_seconds_per_gib},
                        {"pass_through_engine_cpu_s_per_gib", passed.path.engine_cpu_seconds_per_gib},
                        {"spliced_engine_cpu_s_per_gib", spliced.path.engine_cpu_seconds_per_gib},
                        {"copied_engine_cpu_s_per_gib", copied.path.engine_cpu_seconds_per_gib}};
  std::cout << out.dump() << "\n";
  return 0;
}
