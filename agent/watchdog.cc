#include "agent/watchdog.h"

#include <cstdio>
#include <exception>

namespace chaos::agent {

Watchdog::Watchdog(Clock& clock, Duration period, std::function<void()> tick)
    : clock_(clock), period_(period), tick_(std::move(tick)) {}

Watchdog::~Watchdog() { stop(); }

void Watchdog::start() {
  exited_ = false;
  thread_ = std::thread([this] {
    while (!stopping_) {
      // This thread is what ends faults on time: an exception from one tick
      // is reported and the next tick still runs; it never ends the agent.
      try {
        tick_();
      } catch (const std::exception& error) {
        std::fprintf(stderr, "chaos-agent: watchdog tick failed: %s\n", error.what());
      } catch (...) {
        std::fprintf(stderr, "chaos-agent: watchdog tick failed with a non-exception\n");
      }
      clock_.sleep_until(clock_.steady_now() + period_);
    }
    exited_ = true;
  });
}

void Watchdog::stop() {
  stopping_ = true;
  if (!thread_.joinable()) return;
  // A wake-up sent between the thread's stopping_ check and its sleep is
  // lost, and a fake clock that no longer moves would never end that sleep:
  // wake it until it has left the loop.
  while (!exited_) {
    clock_.wake_all();
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  thread_.join();
}

}  // namespace chaos::agent
