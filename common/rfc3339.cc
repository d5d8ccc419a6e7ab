#include "common/rfc3339.h"

#include <cctype>
#include <cstdio>
#include <ctime>

namespace chaos {

std::string format_rfc3339(std::chrono::system_clock::time_point time) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(time.time_since_epoch()).count();
  const std::time_t whole = static_cast<std::time_t>(ms / 1000);
  std::tm utc{};
  gmtime_r(&whole, &utc);
  char buffer[48];
  const size_t length = std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%S", &utc);
  std::snprintf(buffer + length, sizeof buffer - length, ".%03dZ", static_cast<int>(ms % 1000));
  return buffer;
}

std::optional<double> parse_rfc3339(const std::string& text) {
  std::tm utc{};
  int fraction_start = 0;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &utc.tm_year, &utc.tm_mon, &utc.tm_mday, &utc.tm_hour,
                  &utc.tm_min, &utc.tm_sec, &fraction_start) != 6) {
    return std::nullopt;
  }
  utc.tm_year -= 1900;
  utc.tm_mon -= 1;
  double fraction = 0;
  size_t position = static_cast<size_t>(fraction_start);
  if (position < text.size() && text[position] == '.') {
    double scale = 0.1;
    for (++position; position < text.size() && std::isdigit(static_cast<unsigned char>(text[position])); ++position) {
      fraction += (text[position] - '0') * scale;
      scale /= 10;
    }
  }
  if (position + 1 != text.size() || text[position] != 'Z') return std::nullopt;
  return static_cast<double>(timegm(&utc)) + fraction;
}

}  // namespace chaos
