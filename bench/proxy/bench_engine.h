// The proxy engine as the proxy benchmarks run it: the filters they put in
// it, and its event thread's CPU measured around one stream.
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "agent/faults/proxy/proxy_engine.h"
#include "agent/faults/proxy/tcp_fault_filter.h"
#include "bench/proxy/stream_meter.h"
#include "common/status.h"

namespace chaos::bench {

// What the agent runs for a connection or direction a fault leaves alone.
class PassThroughFactory final : public agent::proxy::StreamFilterFactory {
 public:
  std::unique_ptr<agent::proxy::StreamFilter> make(const agent::proxy::ConnectionInfo&) override {
    return std::make_unique<agent::proxy::PassThroughFilter>();
  }
};

// A filter handed every byte that forwards it unchanged: it does not say it
// passes bytes through, so the engine copies them through user space (the
// path of every fault that reads the stream).
class CopyingFactory final : public agent::proxy::StreamFilterFactory {
 public:
  std::unique_ptr<agent::proxy::StreamFilter> make(const agent::proxy::ConnectionInfo&) override;
};

// A started engine and the id of its event thread.
struct MeteredEngine {
  std::unique_ptr<agent::proxy::ProxyEngine> engine;
  std::string thread;
};

StatusOr<MeteredEngine> start_metered_engine(agent::proxy::ProxyEngineOptions options);

// One stream to `to` (the engine's port, or an address nft redirects to
// it), with the engine thread's CPU per GiB; the engine is stopped after.
StreamFigures measure_through(MeteredEngine& engine, const sockaddr_in& to, const StreamReceiver& receiver,
                              double seconds, const std::atomic<bool>* stop = nullptr);

}  // namespace chaos::bench
