// Conversions between the contract's well-known types and our time types.
#pragma once

#include <google/protobuf/duration.pb.h>
#include <google/protobuf/timestamp.pb.h>

#include <string>

#include "common/clock.h"
#include "common/status.h"

namespace chaos::agent {

google::protobuf::Timestamp to_proto_timestamp(WallTime time);
google::protobuf::Duration to_proto_duration(Duration duration);
// INVALID_ARGUMENT naming `field` when seconds and nanos disagree in sign or
// nanos is out of range (a malformed google.protobuf.Duration).
StatusOr<Duration> from_proto_duration(const google::protobuf::Duration& duration, const std::string& field);

}  // namespace chaos::agent
