// Every benchmark binary prints one JSON object on stdout (progress goes to
// stderr), so bench/run can collect them and bench_summary aggregate them.
#pragma once

#include <iostream>
#include <optional>

#include <nlohmann/json.hpp>

#include "bench/support/stats.h"

namespace chaos::bench {

inline nlohmann::json to_json(const Quantiles& q) {
  return {{"count", q.count}, {"p50", q.p50}, {"p99", q.p99}, {"mean", q.mean}, {"stddev", q.stddev}};
}

inline nlohmann::json optional_number(const std::optional<double>& value) {
  return value ? nlohmann::json(*value) : nlohmann::json();
}

inline void emit(const nlohmann::json& result) { std::cout << result.dump(2) << std::endl; }

}  // namespace chaos::bench
