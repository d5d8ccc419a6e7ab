// The pure decision logic of the NFQUEUE engine: for each packet, whether it
// is dropped, when it is released and whether a copy is sent. No I/O and no
// clock reads: time comes in as an argument and randomness from a seeded
// PRNG, so every decision is reproducible in unit tests.
//
// Semantics follow tc-netem(8) so that experiments mean the same thing on
// both backends: jitter may reorder packets (netem's tfifo is time sorted),
// "reorder P" sends P of the packets at once and delays the rest, and a rate
// serialises packets after the delay.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <random>

#include "common/clock.h"

namespace chaos::agent::network {

enum class JitterDistribution { kUniform, kNormal, kPareto };

// Gilbert-Elliott two-state burst loss; probabilities in [0, 1].
struct GilbertElliott {
  double good_to_bad = 0;  // p
  double bad_to_good = 1;  // r
  double loss_in_bad = 1;
  double loss_in_good = 0;
};

struct ImpairmentSpec {
  Duration delay{0};
  Duration jitter{0};
  JitterDistribution distribution = JitterDistribution::kUniform;
  double delay_correlation = 0;  // [0, 1)
  double loss_probability = 0;   // Bernoulli; ignored when burst_loss is set
  double loss_correlation = 0;   // [0, 1)
  std::optional<GilbertElliott> burst_loss;
  double duplicate_probability = 0;
  // Share of packets released at once while the rest wait `delay`.
  double immediate_probability = 0;
  std::uint64_t rate_bits_per_second = 0;  // 0: unlimited
};

// Normal and Pareto jitter are cut at this many standard deviations (`jitter`)
// either side of `delay`, as netem's distribution tables are: their tails are
// otherwise unbounded (a Pareto draw reached 10,000 sigma).
inline constexpr double kJitterTailSigmas = 4.0;

// The largest delay any packet of `spec` gets: delay + jitter (uniform) or
// delay + 4 x jitter (normal, Pareto). What the policy's max_delay bounds.
Duration max_packet_delay(const ImpairmentSpec& spec);

struct PacketDecision {
  bool drop = false;
  bool duplicate = false;
  SteadyTime release_at{};
};

class ImpairmentModel {
 public:
  ImpairmentModel(const ImpairmentSpec& spec, std::uint64_t seed);

  PacketDecision decide(SteadyTime now, std::size_t packet_bytes);

  const ImpairmentSpec& spec() const { return spec_; }

 private:
  bool decide_loss();
  Duration sample_delay();
  double correlated_uniform(double& last, double correlation);
  double standard_jitter_sample(double uniform);
  SteadyTime apply_rate(SteadyTime earliest, std::size_t packet_bytes);

  ImpairmentSpec spec_;
  std::mt19937_64 random_;
  std::uniform_real_distribution<double> unit_{0.0, 1.0};
  double last_delay_sample_ = 0.5;
  double last_loss_uniform_ = 0.5;
  bool in_bad_state_ = false;
  SteadyTime link_free_at_{};
};

}  // namespace chaos::agent::network
