// The fake "now" the engine's unit tests start from: far enough from the
// clock's epoch that a time before it is still a valid SteadyTime.
#pragma once

#include <chrono>

#include "common/clock.h"

namespace chaos::agent::network::engine_test {

inline const SteadyTime kStart = SteadyTime{} + std::chrono::hours(1);

}  // namespace chaos::agent::network::engine_test
