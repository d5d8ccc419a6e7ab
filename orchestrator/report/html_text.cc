#include "orchestrator/report/html_text.h"

#include "orchestrator/run/junit_writer.h"

#include <cmath>
#include <cstdio>
#include <ctime>

namespace chaos::orchestrator::report {

// The XML escaping JUnit uses is also right for HTML5: it knows &apos;, and the
// control characters it drops have no place in a report either.
std::string escape_html(const std::string& text) { return xml_escape(text); }

std::string format_number(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.4g", value);
  return buffer;
}

namespace {

std::string strftime_utc(double epoch_seconds, const char* format) {
  if (!std::isfinite(epoch_seconds)) return "?";
  const std::time_t whole = static_cast<std::time_t>(std::floor(epoch_seconds));
  std::tm utc{};
  gmtime_r(&whole, &utc);
  char buffer[40];
  std::strftime(buffer, sizeof buffer, format, &utc);
  return buffer;
}

}  // namespace

std::string format_clock(double epoch_seconds) { return strftime_utc(epoch_seconds, "%H:%M:%S"); }

std::string format_timestamp(double epoch_seconds) {
  // Beyond ±10^12 s (year ~33,700) the milliseconds would not fit llround.
  if (!std::isfinite(epoch_seconds) || std::abs(epoch_seconds) > 1e12) return "?";
  // Whole milliseconds first: 41.3 is 41.29999... as a double.
  const long long total_millis = std::llround(epoch_seconds * 1000);
  char suffix[16];
  std::snprintf(suffix, sizeof suffix, ".%03d UTC", static_cast<int>(total_millis % 1000));
  return strftime_utc(static_cast<double>(total_millis / 1000), "%Y-%m-%d %H:%M:%S") + suffix;
}

std::string format_seconds(double seconds) {
  char buffer[48];
  if (!std::isfinite(seconds)) return "?";
  if (seconds < 1) {
    std::snprintf(buffer, sizeof buffer, "%.0f ms", seconds * 1000);
  } else if (seconds < 60) {
    std::snprintf(buffer, sizeof buffer, "%.1f s", seconds);
  } else {
    std::snprintf(buffer, sizeof buffer, "%d min %.0f s", static_cast<int>(seconds / 60),
                  std::fmod(seconds, 60.0));
  }
  return buffer;
}

}  // namespace chaos::orchestrator::report
