// The least round trip a test can assert through an engine delay.
#pragma once

#include <chrono>

#include "agent/faults/network/engine/nfqueue_engine.h"

namespace chaos::testing {

// A packet may leave up to kMaxEarlyRelease sooner than its delay (the
// engine dates the delay from its estimated arrival in the queue; 49.73
// and 49.80 ms were measured for 50 ms). Still far above an undelayed
// round trip in the test bed (about 0.1 ms).
inline double delayed_rtt_floor_ms(double delay_ms) {
  return delay_ms - std::chrono::duration<double, std::milli>(agent::network::kMaxEarlyRelease).count();
}

}  // namespace chaos::testing
