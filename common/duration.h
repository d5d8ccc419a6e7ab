// Human durations as written in experiments, flags and configs:
// "250ms", "1.5s", "20s", "2m", "1h30m", "500us". Unit-less numbers are
// refused so that "20" never silently means 20 ns or 20 s.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "common/status.h"

namespace chaos {

StatusOr<std::chrono::nanoseconds> parse_duration(std::string_view text);

// Shortest exact rendering: 1500ms -> "1.5s", 120s -> "2m", 0 -> "0s".
std::string format_duration(std::chrono::nanoseconds duration);

}  // namespace chaos
