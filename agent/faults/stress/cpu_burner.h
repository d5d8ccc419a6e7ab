// Threads that keep CPUs busy at a duty cycle: each is busy for `load` of
// every period and asleep for the rest, until stop(). Used by stress.cpu.
#pragma once

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <chrono>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

#include "common/status.h"

namespace chaos::agent::stress {

class CpuBurner {
 public:
  static constexpr std::chrono::milliseconds kPeriod{100};

  // Starts `workers` threads busy for `load` (0 < load <= 1) of each period.
  // RESOURCE_EXHAUSTED when a thread cannot be created (those started are
  // stopped again first).
  static StatusOr<std::unique_ptr<CpuBurner>> start(unsigned workers, double load);
  ~CpuBurner();
  CpuBurner(const CpuBurner&) = delete;
  CpuBurner& operator=(const CpuBurner&) = delete;

  // Stops and joins every worker; idempotent.
  void stop();
  // CPU time the workers have used so far (their own thread clocks).
  std::chrono::nanoseconds cpu_time() const;
  // Workers that are running now (0 after stop()).
  unsigned running() const { return running_.load(); }

 private:
  explicit CpuBurner(double load) : load_(load) {}
  void work() noexcept;

  const double load_;
  std::atomic<bool> stopping_{false};
  // Wakes sleeping workers at stop(), so a revert does not wait a period.
  std::mutex sleep_mutex_;
  std::condition_variable wake_;
  std::atomic<unsigned> running_{0};
  std::atomic<std::int64_t> cpu_nanoseconds_{0};
  std::vector<std::thread> workers_;
};

}  // namespace chaos::agent::stress
