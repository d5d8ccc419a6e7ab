#include "agent/proto_convert.h"

#include <limits>

namespace chaos::agent {

namespace {
constexpr std::int64_t kNanosPerSecond = 1'000'000'000;
// Larger durations would overflow std::chrono::nanoseconds (~292 years).
constexpr std::int64_t kMaxSeconds = std::numeric_limits<std::int64_t>::max() / kNanosPerSecond - 1;
}  // namespace

google::protobuf::Timestamp to_proto_timestamp(WallTime time) {
  const auto nanos = std::chrono::duration_cast<std::chrono::nanoseconds>(time.time_since_epoch()).count();
  google::protobuf::Timestamp timestamp;
  timestamp.set_seconds(nanos / kNanosPerSecond);
  timestamp.set_nanos(static_cast<std::int32_t>(nanos % kNanosPerSecond));
  if (timestamp.nanos() < 0) {
    timestamp.set_seconds(timestamp.seconds() - 1);
    timestamp.set_nanos(timestamp.nanos() + static_cast<std::int32_t>(kNanosPerSecond));
  }
  return timestamp;
}

google::protobuf::Duration to_proto_duration(Duration duration) {
  google::protobuf::Duration proto;
  proto.set_seconds(duration.count() / kNanosPerSecond);
  proto.set_nanos(static_cast<std::int32_t>(duration.count() % kNanosPerSecond));
  return proto;
}

StatusOr<Duration> from_proto_duration(const google::protobuf::Duration& duration, const std::string& field) {
  const auto seconds = duration.seconds();
  const auto nanos = duration.nanos();
  if (nanos <= -kNanosPerSecond || nanos >= kNanosPerSecond) {
    return invalid_argument(field + ": nanos out of range");
  }
  if ((seconds > 0 && nanos < 0) || (seconds < 0 && nanos > 0)) {
    return invalid_argument(field + ": seconds and nanos differ in sign");
  }
  if (seconds > kMaxSeconds || seconds < -kMaxSeconds) return invalid_argument(field + ": out of range");
  return std::chrono::seconds(seconds) + std::chrono::nanoseconds(nanos);
}

}  // namespace chaos::agent
