// A monotonically increasing value (Prometheus counter). Thread-safe.
#pragma once

#include <atomic>

namespace chaos::metrics {

class Counter {
 public:
  // Negative increments are a programming error: counters only go up.
  void inc(double by = 1.0);
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0.0};
};

}  // namespace chaos::metrics
