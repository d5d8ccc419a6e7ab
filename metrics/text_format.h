// Serialises a Registry in the Prometheus text exposition format 0.0.4.
#pragma once

#include <string>

#include "metrics/registry.h"

namespace chaos::metrics {

inline constexpr const char* kTextContentType = "text/plain; version=0.0.4; charset=utf-8";

std::string serialize_text(const Registry& registry);

// Exposed for tests: the exact spellings the format requires.
std::string format_value(double value);           // NaN, +Inf, -Inf, shortest round-trip
std::string escape_label_value(const std::string& value);  // \\ \" \n
std::string escape_help(const std::string& help);          // \\ \n

}  // namespace chaos::metrics
