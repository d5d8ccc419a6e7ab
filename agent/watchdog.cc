#include "agent/watchdog.h"

#include <cstdio>
#include <exception>

namespace chaos::agent {

Watchdog::Watchdog(Clock& clock, Duration period, std::function<void()> tick)
    : clock_(clock), period_(period), tick_(std::move(tick)) {}

Watchdog::~Watchdog() { stop(); }

void Watchdog::set_idle_pacing(std::chrono::milliseconds idle_period, std::function<bool()> idle) {
  idle_period_ = idle_period;
  idle_ = std::move(idle);
}

void Watchdog::start() {
  exited_ = false;
  thread_ = std::thread([this] {
    while (!stopping_) {
      // This thread is what ends faults on time: an exception from one tick
      // is reported and the next tick still runs; it never ends the agent.
      bool idle = false;
      try {
        tick_();
        idle = idle_ && idle_();
      } catch (const std::exception& error) {
        std::fprintf(stderr, "chaos-agent: watchdog tick failed: %s\n", error.what());
      } catch (...) {
        std::fprintf(stderr, "chaos-agent: watchdog tick failed with a non-exception\n");
      }
      if (idle) {
        pause_while_idle();
      } else {
        clock_.sleep_until(clock_.steady_now() + period_);
      }
    }
    exited_ = true;
  });
}

void Watchdog::pause_while_idle() {
  std::unique_lock lock(wake_mutex_);
  woken_cv_.wait_for(lock, idle_period_, [this] { return woken_ || stopping_; });
  woken_ = false;
}

void Watchdog::wake() {
  {
    std::lock_guard lock(wake_mutex_);
    woken_ = true;
  }
  woken_cv_.notify_all();
}

void Watchdog::stop() {
  stopping_ = true;
  if (!thread_.joinable()) return;
  // A wake-up sent between the thread's stopping_ check and its sleep is
  // lost, and a fake clock that no longer moves would never end that sleep:
  // wake it until it has left the loop.
  while (!exited_) {
    clock_.wake_all();
    wake();
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  thread_.join();
}

}  // namespace chaos::agent
