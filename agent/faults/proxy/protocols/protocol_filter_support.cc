#include "agent/faults/proxy/protocols/protocol_filter_support.h"

#include <random>

namespace chaos::agent::proxy {

namespace {

class ProtocolUntouchedFilter final : public StreamFilter {
 public:
  FilterVerdict on_bytes(Direction, std::string_view input, SteadyTime) override {
    FilterVerdict verdict;
    if (!input.empty()) verdict.forward.push_back(Emit{std::string(input)});
    return verdict;
  }
  FilterVerdict on_end(Direction, SteadyTime) override { return {}; }
  bool passes_through(Direction) const noexcept override { return true; }
};

}  // namespace

ProtocolPercentSource seeded_protocol_percent_source(std::uint64_t seed) {
  auto random = std::make_shared<std::mt19937_64>(seed);
  return [random] { return std::uniform_real_distribution<double>(0.0, 100.0)(*random); };
}

bool protocol_percent_hit(double percent, const ProtocolPercentSource& random) {
  if (percent <= 0 || percent >= 100) return true;
  return random() < percent;
}

std::unique_ptr<StreamFilter> make_protocol_untouched_filter() { return std::make_unique<ProtocolUntouchedFilter>(); }

}  // namespace chaos::agent::proxy
