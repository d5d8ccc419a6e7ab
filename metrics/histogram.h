// Cumulative histogram with fixed upper bounds (Prometheus histogram).
// The +Inf bucket is implicit and always equals the count.
#pragma once

#include <cstdint>
#include <mutex>
#include <vector>

namespace chaos::metrics {

struct HistogramSnapshot {
  std::vector<double> upper_bounds;            // finite bounds, increasing
  std::vector<std::uint64_t> cumulative_counts;  // one per bound
  std::uint64_t count = 0;                     // the +Inf bucket
  double sum = 0.0;
};

class Histogram {
 public:
  // Bounds must be finite and strictly increasing (checked at registration).
  explicit Histogram(std::vector<double> upper_bounds);

  void observe(double value);
  HistogramSnapshot snapshot() const;

 private:
  mutable std::mutex mutex_;
  std::vector<double> upper_bounds_;
  std::vector<std::uint64_t> bucket_counts_;  // non-cumulative
  std::uint64_t count_ = 0;
  double sum_ = 0.0;
};

// Latency buckets in seconds, 0.5 ms .. 10 s.
std::vector<double> default_latency_buckets();
// `count` buckets starting at `start`, each `factor` times the previous.
std::vector<double> exponential_buckets(double start, double factor, int count);

}  // namespace chaos::metrics
