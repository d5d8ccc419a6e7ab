// Text helpers for report.html: escaping (titles, queries and messages are
// user input) and the number and time formats the report uses.
#pragma once

#include <string>

namespace chaos::orchestrator::report {

// Escapes & < > " ' (and drops control characters) so the result is safe in
// element text and in quoted attribute values.
std::string escape_html(const std::string& text);

// Compact number: "0.99", "1.5e-05", "NaN", "+Inf".
std::string format_number(double value);

// Seconds since the epoch as UTC "09:15:03" / "2026-11-23 09:15:03.120 UTC".
std::string format_clock(double epoch_seconds);
std::string format_timestamp(double epoch_seconds);

// "9 ms", "12.3 s", "1 min 5 s".
std::string format_seconds(double seconds);

}  // namespace chaos::orchestrator::report
