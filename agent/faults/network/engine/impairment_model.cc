#include "agent/faults/network/engine/impairment_model.h"

#include <algorithm>
#include <cmath>

namespace chaos::agent::network {

namespace {

// Pareto with shape 3 and scale 1 has mean 1.5 and standard deviation
// sqrt(3/4); standardising it makes `jitter` the spread for every
// distribution, as netem does with its distribution tables.
constexpr double kParetoShape = 3.0;
constexpr double kParetoMean = 1.5;
const double kParetoStddev = std::sqrt(0.75);

}  // namespace

ImpairmentModel::ImpairmentModel(const ImpairmentSpec& spec, std::uint64_t seed)
    : spec_(spec), random_(seed) {}

PacketDecision ImpairmentModel::decide(SteadyTime now, std::size_t packet_bytes) {
  PacketDecision decision;
  if (decide_loss()) {
    decision.drop = true;
    return decision;
  }
  if (spec_.duplicate_probability > 0) decision.duplicate = unit_(random_) < spec_.duplicate_probability;
  Duration delay = sample_delay();
  if (spec_.immediate_probability > 0 && unit_(random_) < spec_.immediate_probability) {
    delay = Duration{0};
  }
  decision.release_at = apply_rate(now + delay, packet_bytes);
  return decision;
}

bool ImpairmentModel::decide_loss() {
  if (spec_.burst_loss) {
    // As netem's gemodel: first the state transition, then the loss draw in
    // the new state.
    const auto& model = *spec_.burst_loss;
    const double transition = unit_(random_);
    if (in_bad_state_) {
      if (transition < model.bad_to_good) in_bad_state_ = false;
    } else if (transition < model.good_to_bad) {
      in_bad_state_ = true;
    }
    const double loss = in_bad_state_ ? model.loss_in_bad : model.loss_in_good;
    return loss > 0 && unit_(random_) < loss;
  }
  if (spec_.loss_probability <= 0) return false;
  if (spec_.loss_probability >= 1) return true;
  return correlated_uniform(last_loss_uniform_, spec_.loss_correlation) < spec_.loss_probability;
}

double ImpairmentModel::correlated_uniform(double& last, double correlation) {
  // netem's blend of the fresh draw with the previous value. It narrows the
  // distribution as correlation grows (tc-netem(8) calls it "not a true
  // statistical correlation"); kept for parity with netem experiments.
  const double fresh = unit_(random_);
  const double value = correlation > 0 ? fresh * (1 - correlation) + last * correlation : fresh;
  last = value;
  return value;
}

Duration ImpairmentModel::sample_delay() {
  if (spec_.jitter <= Duration{0}) return spec_.delay;
  double standard = 0;
  switch (spec_.distribution) {
    case JitterDistribution::kUniform:
      standard = 2 * correlated_uniform(last_delay_sample_, spec_.delay_correlation) - 1;
      break;
    case JitterDistribution::kNormal: {
      // An AR(1) process keeps the marginal distribution N(0, 1) at any
      // correlation, unlike the uniform blend.
      std::normal_distribution<double> normal(0.0, 1.0);
      const double rho = spec_.delay_correlation;
      standard = rho * last_delay_sample_ + std::sqrt(1 - rho * rho) * normal(random_);
      last_delay_sample_ = standard;
      break;
    }
    case JitterDistribution::kPareto: {
      const double u = std::min(correlated_uniform(last_delay_sample_, spec_.delay_correlation),
                                1.0 - 1e-12);
      const double pareto = 1.0 / std::pow(1.0 - u, 1.0 / kParetoShape);
      standard = (pareto - kParetoMean) / kParetoStddev;
      break;
    }
  }
  standard = std::clamp(standard, -kJitterTailSigmas, kJitterTailSigmas);  // the draw itself stays in the AR state
  const double nanos = static_cast<double>(spec_.delay.count()) +
                       standard * static_cast<double>(spec_.jitter.count());
  return Duration{static_cast<Duration::rep>(std::max(0.0, nanos))};
}

Duration max_packet_delay(const ImpairmentSpec& spec) {
  if (spec.jitter <= Duration{0}) return spec.delay;
  const Duration::rep sigmas =
      spec.distribution == JitterDistribution::kUniform ? 1 : static_cast<Duration::rep>(kJitterTailSigmas);
  return spec.delay + sigmas * spec.jitter;
}

SteadyTime ImpairmentModel::apply_rate(SteadyTime earliest, std::size_t packet_bytes) {
  if (spec_.rate_bits_per_second == 0) return earliest;
  // The packet starts "transmitting" when both it is due and the previous
  // one has left the emulated link, and occupies it for len/rate.
  const double seconds =
      static_cast<double>(packet_bytes) * 8.0 / static_cast<double>(spec_.rate_bits_per_second);
  const auto transmit = Duration{static_cast<Duration::rep>(seconds * 1e9)};
  link_free_at_ = std::max(earliest, link_free_at_) + transmit;
  return link_free_at_;
}

}  // namespace chaos::agent::network
