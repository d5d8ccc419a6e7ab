// The statistics the benchmark summary reports.
#include "bench/support/stats.h"

#include <gtest/gtest.h>

namespace chaos::bench {
namespace {

TEST(PercentileTest, InterpolatesBetweenClosestRanks) {
  EXPECT_DOUBLE_EQ(*percentile({4, 1, 3, 2}, 0.5), 2.5);
  EXPECT_DOUBLE_EQ(*percentile({1, 2, 3, 4, 5}, 0.5), 3);
  EXPECT_DOUBLE_EQ(*percentile({1, 2, 3, 4, 5}, 0.99), 4.96);
  EXPECT_DOUBLE_EQ(*percentile({7}, 0.99), 7);
  EXPECT_DOUBLE_EQ(*percentile({1, 2}, 1.5), 2) << "q is clamped";
  EXPECT_FALSE(percentile({}, 0.5).has_value());
}

TEST(QuantilesTest, ReportsMedianTailMeanAndSpread) {
  std::vector<double> samples;
  for (int i = 1; i <= 100; ++i) samples.push_back(i);
  const auto q = quantiles(samples);
  EXPECT_EQ(q.count, 100);
  EXPECT_DOUBLE_EQ(q.p50, 50.5);
  EXPECT_NEAR(q.p99, 99.01, 1e-9);
  EXPECT_DOUBLE_EQ(q.mean, 50.5);
  EXPECT_NEAR(q.stddev, 28.866, 1e-3);
  EXPECT_EQ(quantiles({}).count, 0);
}

TEST(WilsonIntervalTest, MatchesTheTextbookValuesAndStaysInsideZeroOne) {
  // 100 losses in 1000 trials at 99 % (z = 2.5758, z^2 = 6.635):
  // centre (0.1 + z^2/2000) / (1 + z^2/1000) = 0.10264, half-width
  // z sqrt(0.09/1000 + z^2/4e6) / (1 + z^2/1000) = 0.02450.
  const auto interval = wilson_interval(100, 1000);
  EXPECT_NEAR(interval.low, 0.07814, 5e-5);
  EXPECT_NEAR(interval.high, 0.12713, 5e-5);
  EXPECT_TRUE(interval.contains(0.10));
  EXPECT_FALSE(interval.contains(0.20));
  const auto none = wilson_interval(0, 10'000);
  EXPECT_NEAR(none.low, 0, 1e-12);
  EXPECT_GT(none.high, 0);
  EXPECT_LT(none.high, 0.001);
  EXPECT_DOUBLE_EQ(wilson_interval(5, 5).high, 1);
  EXPECT_DOUBLE_EQ(wilson_interval(0, 0).high, 1) << "no trials: no information";
}

TEST(RatioTest, RefusesANonPositiveBaseline) {
  EXPECT_DOUBLE_EQ(*ratio(3, 2), 1.5);
  EXPECT_FALSE(ratio(3, 0).has_value());
  EXPECT_FALSE(ratio(3, -1).has_value());
}

}  // namespace
}  // namespace chaos::bench
