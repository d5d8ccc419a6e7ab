// Conversions of proto fields into validated values, with errors that name
// the field ("network_delay.jitter: must not be negative").
#pragma once

#include <string>

#include <google/protobuf/duration.pb.h>

#include "common/clock.h"
#include "common/status.h"

namespace chaos::agent::network {

// Longest delay, jitter or queue latency we accept: held packets cost memory
// and an hour-long delay is a mistake, not an experiment.
inline constexpr Duration kMaxImpairmentDelay = std::chrono::seconds(60);

StatusOr<Duration> duration_field(const google::protobuf::Duration& proto, const std::string& field);

// A percentage in [0, 100] (or (0, 100] when !allow_zero) as a probability.
StatusOr<double> probability_field(double percent, const std::string& field, bool allow_zero);

}  // namespace chaos::agent::network
