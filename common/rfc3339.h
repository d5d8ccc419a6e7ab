// RFC 3339 UTC timestamps as chaosctl writes them in journal.json
// ("2026-11-23T09:15:03.120Z"), read back by the report and the benchmarks.
#pragma once

#include <chrono>
#include <optional>
#include <string>

namespace chaos {

// "2026-11-23T09:15:03.120Z": UTC, millisecond precision.
std::string format_rfc3339(std::chrono::system_clock::time_point time);

// Seconds since the epoch, or nullopt unless `text` is YYYY-MM-DDTHH:MM:SS[.fraction]Z.
std::optional<double> parse_rfc3339(const std::string& text);

}  // namespace chaos
