#include "bench/support/stats.h"

#include <algorithm>
#include <cmath>

namespace chaos::bench {

std::optional<double> percentile(std::vector<double> samples, double q) {
  if (samples.empty()) return std::nullopt;
  std::sort(samples.begin(), samples.end());
  const double position = std::clamp(q, 0.0, 1.0) * static_cast<double>(samples.size() - 1);
  const auto below = static_cast<std::size_t>(std::floor(position));
  const auto above = std::min(below + 1, samples.size() - 1);
  const double fraction = position - static_cast<double>(below);
  return samples[below] + (samples[above] - samples[below]) * fraction;
}

Quantiles quantiles(const std::vector<double>& samples) {
  Quantiles result;
  if (samples.empty()) return result;
  result.count = static_cast<int>(samples.size());
  result.p50 = *percentile(samples, 0.50);
  result.p99 = *percentile(samples, 0.99);
  double sum = 0;
  for (double value : samples) sum += value;
  result.mean = sum / static_cast<double>(samples.size());
  double squares = 0;
  for (double value : samples) squares += (value - result.mean) * (value - result.mean);
  result.stddev = std::sqrt(squares / static_cast<double>(samples.size()));
  return result;
}

Interval wilson_interval(long hits, long trials, double z) {
  if (trials <= 0) return {0, 1};
  const double n = static_cast<double>(trials);
  const double p = static_cast<double>(hits) / n;
  const double z2 = z * z;
  const double centre = (p + z2 / (2 * n)) / (1 + z2 / n);
  const double half = z * std::sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n);
  return {std::max(0.0, centre - half), std::min(1.0, centre + half)};
}

std::optional<double> ratio(double measured, double baseline) {
  if (!(baseline > 0)) return std::nullopt;
  return measured / baseline;
}

}  // namespace chaos::bench
