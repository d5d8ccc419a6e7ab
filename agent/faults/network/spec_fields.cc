#include "agent/faults/network/spec_fields.h"

#include <cmath>

#include "common/duration.h"

namespace chaos::agent::network {

StatusOr<Duration> duration_field(const google::protobuf::Duration& proto, const std::string& field) {
  constexpr std::int64_t kMaxSeconds = std::chrono::duration_cast<std::chrono::seconds>(kMaxImpairmentDelay).count();
  if (proto.seconds() < 0 || proto.nanos() < 0) return invalid_argument(field + ": must not be negative");
  if (proto.nanos() >= 1'000'000'000) return invalid_argument(field + ": nanos must be below 1e9");
  if (proto.seconds() > kMaxSeconds) {
    return invalid_argument(field + ": at most " + format_duration(kMaxImpairmentDelay));
  }
  const Duration value = std::chrono::seconds(proto.seconds()) + std::chrono::nanoseconds(proto.nanos());
  if (value > kMaxImpairmentDelay) return invalid_argument(field + ": at most " + format_duration(kMaxImpairmentDelay));
  return value;
}

StatusOr<double> probability_field(double percent, const std::string& field, bool allow_zero) {
  if (!std::isfinite(percent)) return invalid_argument(field + ": must be a finite number");
  if (percent < 0 || percent > 100 || (!allow_zero && percent == 0)) {
    return invalid_argument(field + (allow_zero ? ": must be in 0..100" : ": must be in (0, 100]"));
  }
  return percent / 100.0;
}

}  // namespace chaos::agent::network
