#include "common/duration.h"

#include <array>
#include <cmath>
#include <cstdint>
#include <limits>

namespace chaos {

namespace {

struct Unit {
  std::string_view suffix;
  std::int64_t nanoseconds;
};

// Longest suffixes first so "ms" is not read as "m" followed by "s".
constexpr std::array<Unit, 7> kUnits{{
    {"ns", 1},
    {"us", 1'000},
    {"ms", 1'000'000},
    {"s", 1'000'000'000},
    {"m", 60'000'000'000},
    {"h", 3'600'000'000'000},
    {"d", 86'400'000'000'000},
}};

const Unit* match_unit(std::string_view rest) {
  const Unit* best = nullptr;
  for (const auto& unit : kUnits) {
    if (rest.substr(0, unit.suffix.size()) == unit.suffix &&
        (best == nullptr || unit.suffix.size() > best->suffix.size())) {
      best = &unit;
    }
  }
  return best;
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

constexpr std::size_t kMaxNumberLength = 40;

}  // namespace

StatusOr<std::chrono::nanoseconds> parse_duration(std::string_view text) {
  // Quoted whole up to a line's worth; a longer text is cut, not echoed.
  constexpr std::size_t kQuotedMax = 64;
  const std::string quoted = "'" + std::string(text.substr(0, kQuotedMax)) + (text.size() > kQuotedMax ? "...'" : "'");
  if (text.empty()) return invalid_argument("empty duration (expected e.g. \"250ms\", \"20s\", \"1m30s\")");
  if (text == "0") return std::chrono::nanoseconds(0);
  long double total = 0;
  std::size_t pos = 0;
  while (pos < text.size()) {
    const std::size_t start = pos;
    while (pos < text.size() && (is_digit(text[pos]) || text[pos] == '.')) ++pos;
    if (pos == start) {
      return invalid_argument("invalid duration " + quoted + ": expected a number at offset " +
                              std::to_string(start));
    }
    const std::string number(text.substr(start, pos - start));
    if (number.find('.') != number.rfind('.') || number == ".") {
      return invalid_argument("invalid duration " + quoted + ": malformed number '" + number + "'");
    }
    // Far beyond any duration, and thousands of digits would overflow (or
    // underflow) std::stold, which throws.
    if (number.size() > kMaxNumberLength) {
      return invalid_argument("invalid duration " + quoted + ": a number of more than " +
                              std::to_string(kMaxNumberLength) + " characters");
    }
    const Unit* unit = match_unit(text.substr(pos));
    if (unit == nullptr) {
      return invalid_argument("invalid duration " + quoted +
                              ": missing or unknown unit (use ns, us, ms, s, m, h, d)");
    }
    pos += unit->suffix.size();
    total += std::stold(number) * static_cast<long double>(unit->nanoseconds);
  }
  if (total > static_cast<long double>(std::numeric_limits<std::int64_t>::max())) {
    return invalid_argument("duration " + quoted + " is too large");
  }
  return std::chrono::nanoseconds(static_cast<std::int64_t>(std::llround(total)));
}

std::string format_duration(std::chrono::nanoseconds duration) {
  auto ns = duration.count();
  if (ns == 0) return "0s";
  std::string sign;
  if (ns < 0) {
    sign = "-";
    ns = -ns;
  }
  // Below a second, a single sub-second unit reads best ("250ms", "1.5ms").
  if (ns < 1'000'000'000) {
    for (const auto& [suffix, unit_ns] : {std::pair{"ms", 1'000'000LL}, std::pair{"us", 1'000LL}}) {
      if (ns >= unit_ns) {
        const double value = static_cast<double>(ns) / static_cast<double>(unit_ns);
        std::string text = std::to_string(value);
        text.erase(text.find_last_not_of('0') + 1);
        if (text.back() == '.') text.pop_back();
        return sign + text + suffix;
      }
    }
    return sign + std::to_string(ns) + "ns";
  }
  std::string text;
  const std::int64_t hours = ns / 3'600'000'000'000;
  ns %= 3'600'000'000'000;
  const std::int64_t minutes = ns / 60'000'000'000;
  ns %= 60'000'000'000;
  if (hours > 0) text += std::to_string(hours) + "h";
  if (minutes > 0) text += std::to_string(minutes) + "m";
  if (ns > 0) {
    std::string seconds = std::to_string(static_cast<double>(ns) / 1e9);
    seconds.erase(seconds.find_last_not_of('0') + 1);
    if (seconds.back() == '.') seconds.pop_back();
    text += seconds + "s";
  }
  return sign + text;
}

}  // namespace chaos
