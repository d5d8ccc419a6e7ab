// How late the engine thread runs after the instant it asked to, learned
// from its own timer wake-ups while it works (no clock reads here: the
// engine passes the times in, so this is unit-tested with made-up ones).
//
// Two uses, both for delay accuracy (bench/README.md, delay fidelity):
// - Release: a sleeping thread wakes late (on a VM, tens to hundreds of
//   microseconds: the idle vCPU has to be scheduled again), so the engine
//   arms its timer `margin()` before a release and spins the rest. The
//   margin is a high quantile of recent wake-ups, capped, so the spin stays
//   short and bounded.
// - Arrival: the kernel gives no arrival time for egress packets
//   (NFQA_TIMESTAMP is only sent for hooks up to FORWARD), and a packet
//   that wakes the thread was queued about one wake-up latency before the
//   thread read it. `typical()` (the median) is that estimate; the delay
//   then starts when the packet reached the queue, as netem's does.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>

#include "common/clock.h"

namespace chaos::agent::network {

class WakeUpLatency {
 public:
  // Enough samples for a stable median and a 90th percentile, few enough
  // to follow a change of load within a second of traffic.
  static constexpr std::size_t kSamples = 32;

  // `max_margin` bounds how long the engine may spin before one release.
  explicit WakeUpLatency(Duration max_margin) : max_margin_(max_margin) {}

  // The most typical() can be: each sample counts at most 4 margins (see
  // observe()).
  static constexpr Duration max_typical(Duration max_margin) { return 4 * max_margin; }

  // A timer armed for `armed` woke the thread at `woke`. A wake-up before
  // the deadline (not a timer expiry) carries no information and is ignored.
  void observe(SteadyTime armed, SteadyTime woke) {
    if (woke < armed) return;
    // One preemption by a long-running task says nothing about the next
    // wake-up; clamping keeps it from dominating the estimates for 32 samples.
    samples_[next_ % kSamples] = std::min<Duration>(woke - armed, max_typical(max_margin_));
    ++next_;
    recompute();
  }

  std::size_t observed() const { return next_; }
  // Median of the recent wake-ups; zero before the first.
  Duration typical() const { return typical_; }
  // How long before a release to wake: the 90th percentile of the recent
  // wake-ups, at most max_margin.
  Duration margin() const { return margin_; }

 private:
  void recompute() {
    const std::size_t count = std::min(next_, kSamples);
    std::array<Duration, kSamples> sorted{};
    std::copy_n(samples_.begin(), count, sorted.begin());
    std::sort(sorted.begin(), sorted.begin() + static_cast<std::ptrdiff_t>(count));
    typical_ = sorted[count / 2];
    margin_ = std::min(sorted[(count * 9) / 10], max_margin_);
  }

  Duration max_margin_;
  std::array<Duration, kSamples> samples_{};
  std::size_t next_ = 0;
  Duration typical_{0};
  Duration margin_{0};
};

}  // namespace chaos::agent::network
