// Turns SIGINT, SIGTERM and SIGHUP into a flag the run polls (and wakes the clock so a
// sleeping run notices at once). Signals are handled on a dedicated thread
// with sigtimedwait, so no code runs in async-signal context.
#pragma once

#include <atomic>
#include <thread>

#include "common/clock.h"

namespace chaos::orchestrator {

class InterruptWatcher {
 public:
  // Must be constructed before any other thread starts (gRPC, fan-out), so
  // that every thread inherits the blocked signal mask.
  explicit InterruptWatcher(Clock& clock);
  ~InterruptWatcher();
  InterruptWatcher(const InterruptWatcher&) = delete;
  InterruptWatcher& operator=(const InterruptWatcher&) = delete;

  const std::atomic<bool>& interrupted() const { return interrupted_; }

 private:
  void watch();

  Clock& clock_;
  std::atomic<bool> interrupted_{false};
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace chaos::orchestrator
