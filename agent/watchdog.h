// Calls a function (FaultRegistry::tick) every `period` on its own thread,
// with time from the injected Clock, until stop().
//
// Idle pacing (optional): while `idle()` says nothing is live, the watchdog
// ticks only every `idle_period`, so an idle agent wakes once a second, not
// ten times; wake() (a request arrived) ends such a pause at once. Idle
// pauses run in real time, not on the Clock: they only spare wake-ups and
// carry no deadline, since nothing that could be due exists while idle.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

#include "common/clock.h"

namespace chaos::agent {

class Watchdog {
 public:
  Watchdog(Clock& clock, Duration period, std::function<void()> tick);
  ~Watchdog();
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;

  // Before start(). `idle` runs on the watchdog thread after each tick; it
  // must say true only when no fault, lease deadline or retry can be due
  // before the next wake().
  void set_idle_pacing(std::chrono::milliseconds idle_period, std::function<bool()> idle);
  void start();
  void stop();
  // Ends an idle pause: the next tick runs now. Never lost: a wake() that
  // comes before the pause begins ends it at once.
  void wake();

 private:
  void pause_while_idle();

  Clock& clock_;
  Duration period_;
  std::function<void()> tick_;
  std::chrono::milliseconds idle_period_{0};
  std::function<bool()> idle_;
  std::mutex wake_mutex_;
  std::condition_variable woken_cv_;
  bool woken_ = false;  // guarded by wake_mutex_
  std::atomic<bool> stopping_{false};
  std::atomic<bool> exited_{false};
  std::thread thread_;
};

}  // namespace chaos::agent
