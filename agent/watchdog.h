// Calls a function (FaultRegistry::tick) on its own thread, with time from
// the injected Clock, until stop(). The function returns when it next has
// work; the watchdog sleeps until then, or one `heartbeat` at most, so an
// idle agent wakes once a heartbeat instead of ten times a second. A
// Clock::wake_all() (the registry sends one when a deadline appears that
// may be earlier, e.g. an inject with a 1 s TTL) ends the sleep at once,
// also one sent while the function was still running.
#pragma once

#include <atomic>
#include <functional>
#include <thread>

#include "common/clock.h"

namespace chaos::agent {

class Watchdog {
 public:
  // Returns the instant it wants to run again (SteadyTime::max(): nothing due).
  using Tick = std::function<SteadyTime()>;
  // After a tick that threw, the next runs this much later (the registry's
  // tick interval), not a heartbeat later: a TTL due meanwhile is not late.
  static constexpr Duration kDefaultFailedTickRetry = std::chrono::milliseconds(100);

  Watchdog(Clock& clock, Duration heartbeat, Tick tick, Duration failed_tick_retry = kDefaultFailedTickRetry);
  ~Watchdog();
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;

  void start();
  void stop();

 private:
  SteadyTime run_tick(SteadyTime started);

  Clock& clock_;
  Duration heartbeat_;
  Duration failed_tick_retry_;
  Tick tick_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> exited_{false};
  std::thread thread_;
};

}  // namespace chaos::agent
