#include "metrics/registry.h"

#include <gtest/gtest.h>

#include <thread>

namespace chaos::metrics {
namespace {

TEST(Registry, CounterMustEndInTotal) {
  Registry registry;
  EXPECT_THROW(registry.counter("chaos_injections", "x"), std::invalid_argument);
  EXPECT_THROW(registry.gauge("chaos_active_total", "x"), std::invalid_argument);
}

TEST(Registry, RefusesInvalidOrReservedNames) {
  Registry registry;
  EXPECT_THROW(registry.gauge("9lives", "x"), std::invalid_argument);
  EXPECT_THROW(registry.gauge("has-dash", "x"), std::invalid_argument);
  EXPECT_THROW(registry.gauge("recording:rule", "x"), std::invalid_argument);
  EXPECT_THROW(registry.gauge("x_bucket", "x"), std::invalid_argument);
  EXPECT_THROW(registry.gauge("ok_name", "x", {"__reserved"}), std::invalid_argument);
  EXPECT_THROW(registry.gauge("ok_name2", "x", {"a", "a"}), std::invalid_argument);
  EXPECT_THROW(registry.histogram("h_seconds", "x", {"le"}, {1}), std::invalid_argument);
}

TEST(Registry, RefusesDuplicateFamilies) {
  Registry registry;
  registry.gauge("chaos_up", "x");
  EXPECT_THROW(registry.gauge("chaos_up", "x"), std::invalid_argument);
}

TEST(Registry, RefusesUnorderedBuckets) {
  Registry registry;
  EXPECT_THROW(registry.histogram("h_seconds", "x", {}, {1, 0.5}), std::invalid_argument);
}

TEST(Family, WrongLabelCountIsRefused) {
  Registry registry;
  auto& family = registry.counter("chaos_x_total", "x", {"kind"});
  EXPECT_THROW(family.with({}), std::invalid_argument);
  EXPECT_THROW(family.with({"a", "b"}), std::invalid_argument);
}

TEST(Family, ConcurrentIncrementsAreNotLost) {
  Registry registry;
  auto& family = registry.counter("chaos_x_total", "x", {"kind"});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10000; ++i) family.with({"k"}).inc();
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(family.with({"k"}).value(), 40000);
}

TEST(Histogram, ValueOnABoundCountsInThatBucket) {
  Histogram histogram({1, 2});
  histogram.observe(1);
  histogram.observe(2.0000001);
  auto snapshot = histogram.snapshot();
  EXPECT_EQ(snapshot.cumulative_counts, (std::vector<std::uint64_t>{1, 1}));
  EXPECT_EQ(snapshot.count, 2u);
}

TEST(Buckets, ExponentialGrowsByFactor) {
  EXPECT_EQ(exponential_buckets(0.001, 10, 3), (std::vector<double>{0.001, 0.01, 0.1}));
}

}  // namespace
}  // namespace chaos::metrics
