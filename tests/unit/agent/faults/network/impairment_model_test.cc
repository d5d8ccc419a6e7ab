#include "agent/faults/network/engine/impairment_model.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "tests/unit/agent/faults/network/engine_test_time.h"

namespace chaos::agent::network {
namespace {

using std::chrono::microseconds;
using std::chrono::milliseconds;

using engine_test::kStart;

ImpairmentSpec spec_of(void (*fill)(ImpairmentSpec&)) {
  ImpairmentSpec spec;
  fill(spec);
  return spec;
}

std::vector<double> delays_ms(ImpairmentModel& model, int count) {
  std::vector<double> delays;
  for (int i = 0; i < count; ++i) {
    const auto decision = model.decide(kStart, 100);
    delays.push_back(std::chrono::duration<double, std::milli>(decision.release_at - kStart).count());
  }
  return delays;
}

double mean(const std::vector<double>& values) {
  double sum = 0;
  for (double v : values) sum += v;
  return sum / static_cast<double>(values.size());
}

double stddev(const std::vector<double>& values) {
  const double m = mean(values);
  double sum = 0;
  for (double v : values) sum += (v - m) * (v - m);
  return std::sqrt(sum / static_cast<double>(values.size()));
}

TEST(ImpairmentModelTest, ConstantDelayReleasesAtArrivalPlusDelay) {
  ImpairmentModel model(spec_of([](ImpairmentSpec& s) { s.delay = milliseconds(50); }), 1);
  const auto decision = model.decide(kStart, 1500);
  EXPECT_FALSE(decision.drop);
  EXPECT_FALSE(decision.duplicate);
  EXPECT_EQ(decision.release_at, kStart + milliseconds(50));
}

TEST(ImpairmentModelTest, UniformJitterStaysWithinBoundsAroundTheDelay) {
  ImpairmentModel model(spec_of([](ImpairmentSpec& s) { s.delay = milliseconds(50); s.jitter = milliseconds(10); }), 7);
  const auto delays = delays_ms(model, 20000);
  EXPECT_GE(*std::min_element(delays.begin(), delays.end()), 40.0);
  EXPECT_LE(*std::max_element(delays.begin(), delays.end()), 60.0);
  EXPECT_NEAR(mean(delays), 50.0, 0.2);
  // Uniform on [-j, j] has standard deviation j / sqrt(3).
  EXPECT_NEAR(stddev(delays), 10.0 / std::sqrt(3.0), 0.2);
}

TEST(ImpairmentModelTest, NormalJitterHasTheRequestedSpread) {
  ImpairmentModel model(spec_of([](ImpairmentSpec& s) { s.delay = milliseconds(100); s.jitter = milliseconds(10); s.distribution = JitterDistribution::kNormal; }),
                        3);
  const auto delays = delays_ms(model, 20000);
  EXPECT_NEAR(mean(delays), 100.0, 0.3);
  EXPECT_NEAR(stddev(delays), 10.0, 0.3);
}

TEST(ImpairmentModelTest, ParetoJitterIsHeavyTailedAndNeverNegative) {
  ImpairmentModel model(spec_of([](ImpairmentSpec& s) { s.delay = milliseconds(5); s.jitter = milliseconds(5); s.distribution = JitterDistribution::kPareto; }),
                        5);
  auto delays = delays_ms(model, 20000);
  EXPECT_GE(*std::min_element(delays.begin(), delays.end()), 0.0);
  std::sort(delays.begin(), delays.end());
  const double median = delays[delays.size() / 2];
  EXPECT_LT(median, mean(delays));  // right-skewed
  EXPECT_GT(delays.back(), 5.0 + 3 * 5.0);  // a tail well beyond 3 sigma
}

TEST(ImpairmentModelTest, NormalAndParetoTailsAreCutAtFourSigmaAsNetemsTablesAre) {
  ImpairmentModel normal(spec_of([](ImpairmentSpec& s) {
                           s.delay = milliseconds(100);
                           s.jitter = milliseconds(10);
                           s.distribution = JitterDistribution::kNormal;
                         }),
                         11);
  const auto normal_delays = delays_ms(normal, 200000);
  EXPECT_GE(*std::min_element(normal_delays.begin(), normal_delays.end()), 60.0);
  EXPECT_LE(*std::max_element(normal_delays.begin(), normal_delays.end()), 140.0);
  ImpairmentSpec heavy;
  heavy.delay = milliseconds(10);
  heavy.jitter = milliseconds(5);
  heavy.distribution = JitterDistribution::kPareto;
  ImpairmentModel pareto(heavy, 13);
  const auto pareto_delays = delays_ms(pareto, 200000);
  const double longest = *std::max_element(pareto_delays.begin(), pareto_delays.end());
  EXPECT_LE(longest, 30.0);
  EXPECT_GT(longest, 29.0) << "the tail reaches the cut";
  EXPECT_EQ(max_packet_delay(heavy), milliseconds(30));
  heavy.distribution = JitterDistribution::kUniform;
  EXPECT_EQ(max_packet_delay(heavy), milliseconds(15));
}

TEST(ImpairmentModelTest, NegativeSamplesAreClampedToZeroDelay) {
  ImpairmentModel model(spec_of([](ImpairmentSpec& s) { s.delay = milliseconds(1); s.jitter = milliseconds(10); s.distribution = JitterDistribution::kNormal; }),
                        9);
  const auto delays = delays_ms(model, 5000);
  EXPECT_EQ(*std::min_element(delays.begin(), delays.end()), 0.0);
}

TEST(ImpairmentModelTest, BernoulliLossMatchesTheProbability) {
  ImpairmentModel model(spec_of([](ImpairmentSpec& s) { s.loss_probability = 0.1; }), 11);
  int dropped = 0;
  for (int i = 0; i < 100000; ++i) dropped += model.decide(kStart, 100).drop ? 1 : 0;
  EXPECT_NEAR(dropped, 10000, 300);
}

TEST(ImpairmentModelTest, FullLossDropsEverythingAndZeroLossNothing) {
  ImpairmentModel all(spec_of([](ImpairmentSpec& s) { s.loss_probability = 1.0; }), 1);
  ImpairmentModel none(ImpairmentSpec{}, 1);
  for (int i = 0; i < 1000; ++i) {
    EXPECT_TRUE(all.decide(kStart, 100).drop);
    EXPECT_FALSE(none.decide(kStart, 100).drop);
  }
}

TEST(ImpairmentModelTest, GilbertElliottLossComesInBursts) {
  // p = 1%, r = 25%: stationary bad share p/(p+r) ~ 3.85%, mean burst 4.
  ImpairmentSpec spec;
  spec.burst_loss = GilbertElliott{0.01, 0.25, 1.0, 0.0};
  ImpairmentModel model(spec, 13);
  int dropped = 0, bursts = 0;
  bool previous = false;
  constexpr int kPackets = 200000;
  for (int i = 0; i < kPackets; ++i) {
    const bool drop = model.decide(kStart, 100).drop;
    dropped += drop ? 1 : 0;
    if (drop && !previous) ++bursts;
    previous = drop;
  }
  EXPECT_NEAR(static_cast<double>(dropped) / kPackets, 0.01 / 0.26, 0.004);
  EXPECT_NEAR(static_cast<double>(dropped) / bursts, 4.0, 0.3);
}

TEST(ImpairmentModelTest, SameSeedGivesTheSameDecisions) {
  const ImpairmentSpec spec = spec_of([](ImpairmentSpec& s) {
    s.delay = milliseconds(20);
    s.jitter = milliseconds(5);
    s.loss_probability = 0.3;
  });
  ImpairmentModel first(spec, 99), second(spec, 99), other(spec, 100);
  bool any_difference = false;
  for (int i = 0; i < 1000; ++i) {
    const auto a = first.decide(kStart, 100);
    const auto b = second.decide(kStart, 100);
    const auto c = other.decide(kStart, 100);
    EXPECT_EQ(a.drop, b.drop);
    EXPECT_EQ(a.release_at, b.release_at);
    any_difference |= a.drop != c.drop || a.release_at != c.release_at;
  }
  EXPECT_TRUE(any_difference);
}

TEST(ImpairmentModelTest, ImmediateShareSkipsTheDelayLikeNetemReorder) {
  ImpairmentModel model(spec_of([](ImpairmentSpec& s) { s.delay = milliseconds(10); s.immediate_probability = 0.25; }), 17);
  int immediate = 0;
  for (int i = 0; i < 20000; ++i) {
    const auto release = model.decide(kStart, 100).release_at;
    ASSERT_TRUE(release == kStart || release == kStart + milliseconds(10));
    immediate += release == kStart ? 1 : 0;
  }
  EXPECT_NEAR(immediate, 5000, 250);
}

TEST(ImpairmentModelTest, RateSerialisesPacketsOnTheEmulatedLink) {
  // 1500 bytes at 12 Mbit/s take exactly 1 ms.
  ImpairmentModel model(spec_of([](ImpairmentSpec& s) { s.rate_bits_per_second = 12'000'000; }), 1);
  EXPECT_EQ(model.decide(kStart, 1500).release_at, kStart + milliseconds(1));
  EXPECT_EQ(model.decide(kStart, 1500).release_at, kStart + milliseconds(2));
  EXPECT_EQ(model.decide(kStart, 1500).release_at, kStart + milliseconds(3));
  // An idle link starts again from the arrival time.
  EXPECT_EQ(model.decide(kStart + milliseconds(10), 750).release_at, kStart + milliseconds(10) + microseconds(500));
}

TEST(ImpairmentModelTest, DuplicateProbabilityIsHonoured) {
  ImpairmentModel model(spec_of([](ImpairmentSpec& s) { s.duplicate_probability = 0.05; }), 19);
  int duplicates = 0;
  for (int i = 0; i < 100000; ++i) duplicates += model.decide(kStart, 100).duplicate ? 1 : 0;
  EXPECT_NEAR(duplicates, 5000, 250);
}

}  // namespace
}  // namespace chaos::agent::network
