// The least round trip a test can assert through an engine delay.
#pragma once

namespace chaos::testing {

// The engine dates a packet's delay from its estimated arrival in the
// queue: the median of its recent wake-up latencies before it read the
// packet (agent/faults/network/engine/wake_up_latency.h; the samples are
// clamped at 4 x 250 us). A packet read after a quicker wake-up than that
// median leaves up to the difference sooner than `delay_ms` after it was
// queued (49.73 and 49.80 ms were measured for 50 ms). Still far above an
// undelayed round trip in the test bed (about 0.1 ms).
inline double delayed_rtt_floor_ms(double delay_ms) { return delay_ms - 1.0; }

}  // namespace chaos::testing
