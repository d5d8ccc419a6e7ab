// Calls a function (FaultRegistry::tick) every `period` on its own thread,
// with time from the injected Clock, until stop().
#pragma once

#include <atomic>
#include <functional>
#include <thread>

#include "common/clock.h"

namespace chaos::agent {

class Watchdog {
 public:
  Watchdog(Clock& clock, Duration period, std::function<void()> tick);
  ~Watchdog();
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;

  void start();
  void stop();

 private:
  Clock& clock_;
  Duration period_;
  std::function<void()> tick_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> exited_{false};
  std::thread thread_;
};

}  // namespace chaos::agent
