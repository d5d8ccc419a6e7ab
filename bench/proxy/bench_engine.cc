#include "bench/proxy/bench_engine.h"

#include <set>

namespace chaos::bench {

namespace {

using agent::proxy::Direction;
using agent::proxy::Emit;
using agent::proxy::FilterVerdict;

class BenchCopyingFilter final : public agent::proxy::StreamFilter {
 public:
  FilterVerdict on_bytes(Direction, std::string_view input, SteadyTime) override {
    FilterVerdict verdict;
    verdict.forward.push_back(Emit{std::string(input)});
    return verdict;
  }
  FilterVerdict on_end(Direction, SteadyTime) override { return {}; }
};

}  // namespace

std::unique_ptr<agent::proxy::StreamFilter> CopyingFactory::make(const agent::proxy::ConnectionInfo&) {
  return std::make_unique<BenchCopyingFilter>();
}

StatusOr<MeteredEngine> start_metered_engine(agent::proxy::ProxyEngineOptions options) {
  const std::set<std::string> before = stream_thread_ids();
  CHAOS_ASSIGN_OR_RETURN(auto engine, agent::proxy::ProxyEngine::start(std::move(options)));
  MeteredEngine metered{std::move(engine), {}};
  // The one thread the engine started: its event thread.
  for (const std::string& id : stream_thread_ids()) {
    if (before.count(id) == 0) metered.thread = id;
  }
  return metered;
}

StreamFigures measure_through(MeteredEngine& engine, const sockaddr_in& to, const StreamReceiver& receiver,
                              double seconds, const std::atomic<bool>* stop) {
  const double cpu_before = stream_thread_cpu_seconds(engine.thread);
  StreamFigures figures = measure_stream(to, receiver, seconds, stop);
  const double cpu = stream_thread_cpu_seconds(engine.thread) - cpu_before;
  if (figures.gib > 0) figures.engine_cpu_seconds_per_gib = cpu / figures.gib;
  engine.engine->stop();
  return figures;
}

}  // namespace chaos::bench
