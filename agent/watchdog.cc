#include "agent/watchdog.h"

#include <algorithm>
#include <cstdio>
#include <exception>
#include "common/thread_name.h"

namespace chaos::agent {

namespace {
// A deadline already past (a fault whose revert could not begin yet) must
// not turn the loop into a spin.
constexpr auto kWatchdogMinimumSleep = std::chrono::milliseconds(1);
}  // namespace

Watchdog::Watchdog(Clock& clock, Duration heartbeat, Tick tick, Duration failed_tick_retry)
    : clock_(clock), heartbeat_(heartbeat), failed_tick_retry_(failed_tick_retry), tick_(std::move(tick)) {}

Watchdog::~Watchdog() { stop(); }

void Watchdog::start() {
  exited_ = false;
  thread_ = std::thread([this] {
    set_current_thread_name("chaos-watchdog");
    while (!stopping_) {
      // Taken before the tick looks at the registry: a wake sent while it
      // looks (an inject finishing meanwhile) still ends the sleep below.
      const std::uint64_t ticket = clock_.wake_ticket();
      // The bounds count from before the tick: time read after it could
      // already be past `next`, and the minimum sleep would then skip it.
      const SteadyTime started = clock_.steady_now();
      const SteadyTime next = run_tick(started);
      clock_.sleep_unless_woken(std::min(std::max(next, started + kWatchdogMinimumSleep), started + heartbeat_),
                                ticket);
    }
    exited_ = true;
  });
}

// This thread is what ends faults on time: an exception from one tick is
// reported and the next tick still runs (one tick interval later, so a
// deadline it may have missed is late by that at most); it never ends the
// agent.
SteadyTime Watchdog::run_tick(SteadyTime started) {
  try {
    return tick_();
  } catch (const std::exception& error) {
    std::fprintf(stderr, "chaos-agent: watchdog tick failed: %s\n", error.what());
  } catch (...) {
    std::fprintf(stderr, "chaos-agent: watchdog tick failed with a non-exception\n");
  }
  return started + failed_tick_retry_;
}

void Watchdog::stop() {
  stopping_ = true;
  if (!thread_.joinable()) return;
  // A clock without wake tickets loses a wake-up sent between the thread's
  // stopping_ check and its sleep, and a fake clock that no longer moves
  // would never end that sleep: wake it until it has left the loop.
  while (!exited_) {
    clock_.wake_all();
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  thread_.join();
}

}  // namespace chaos::agent
