// Statistics the benchmarks report: percentiles of samples, ratios against a
// baseline taken in the same run, and the binomial interval a measured loss
// rate is judged by. Pure functions, unit-tested (tests/unit/bench).
#pragma once

#include <optional>
#include <vector>

namespace chaos::bench {

// Linear interpolation between closest ranks (R's type 7, numpy's default);
// q in [0, 1]. nullopt for no samples.
std::optional<double> percentile(std::vector<double> samples, double q);

struct Quantiles {
  int count = 0;
  double p50 = 0;
  double p99 = 0;
  double mean = 0;
  double stddev = 0;  // population standard deviation
};
Quantiles quantiles(const std::vector<double>& samples);

// Wilson score interval for a proportion seen `hits` times in `trials`; z is
// the normal quantile (2.576 for 99 %, two-sided). Better than the normal
// approximation near 0 % and for small counts.
struct Interval {
  double low = 0;
  double high = 0;
  bool contains(double value) const { return value >= low && value <= high; }
};
inline constexpr double kZ99 = 2.5758293035489;
Interval wilson_interval(long hits, long trials, double z = kZ99);

// measured / baseline, or nullopt when the baseline is not positive.
std::optional<double> ratio(double measured, double baseline);

}  // namespace chaos::bench
