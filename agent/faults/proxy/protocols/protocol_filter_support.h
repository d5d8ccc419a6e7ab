// What the http.* and nats.* filters share: the random source that picks
// the faulted connections and requests, and the filter for the rest.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>

#include "agent/faults/proxy/stream_filter.h"

namespace chaos::agent::proxy {

// A number in [0, 100) per call. Injected so that tests choose exactly
// which connections and requests are faulted. Called from the proxy's
// event thread only (like the filters), so it needs no lock.
using ProtocolPercentSource = std::function<double()>;

ProtocolPercentSource seeded_protocol_percent_source(std::uint64_t seed);

// `percent` 0 means 100 (like the other kinds' percent fields).
bool protocol_percent_hit(double percent, const ProtocolPercentSource& random);

// Forwards every byte at once and unchanged: the connections a fault's
// percentage leaves alone.
std::unique_ptr<StreamFilter> make_protocol_untouched_filter();

}  // namespace chaos::agent::proxy
