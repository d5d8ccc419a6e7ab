#include "orchestrator/experiment/disk_fill_params.h"

#include <strings.h>

#include <cctype>
#include <cmath>
#include <cstdlib>

namespace chaos::orchestrator {

namespace {

// The agent's own bounds (agent/faults/disk/disk_fill_kind.h).
constexpr std::uint64_t kDiskFillParamMaxLeave = 1ULL << 60;
constexpr std::size_t kDiskFillParamMaxPath = 4096;
constexpr std::size_t kByteSizeMaxText = 64;

struct ByteSizeUnit {
  const char* name;
  double factor;
};

constexpr ByteSizeUnit kByteSizeUnits[] = {
    {"", 1},         {"b", 1},          {"kb", 1e3},       {"mb", 1e6},          {"gb", 1e9},
    {"tb", 1e12},    {"kib", 1024.0},   {"mib", 1048576.0}, {"gib", 1073741824.0}, {"tib", 1099511627776.0},
};

}  // namespace

StatusOr<std::uint64_t> parse_byte_size(const std::string& text, std::uint64_t max) {
  const std::string example = "a size such as 1048576, \"512KiB\", \"10MiB\" or \"1.5GB\"";
  if (text.empty() || text.size() > kByteSizeMaxText) return invalid_argument("'" + text + "' is not " + example);
  std::size_t digits = 0;
  while (digits < text.size() && (std::isdigit(static_cast<unsigned char>(text[digits])) || text[digits] == '.')) {
    ++digits;
  }
  if (digits == 0) return invalid_argument("'" + text + "' is not " + example);
  char* end = nullptr;
  const std::string number_text = text.substr(0, digits);
  const double number = std::strtod(number_text.c_str(), &end);
  if (end != number_text.c_str() + number_text.size() || !std::isfinite(number)) {
    return invalid_argument("'" + text + "' is not " + example);
  }
  std::string unit = text.substr(digits);
  if (!unit.empty() && unit.front() == ' ') unit.erase(0, 1);
  for (const auto& known : kByteSizeUnits) {
    if (::strcasecmp(unit.c_str(), known.name) != 0) continue;
    const long double bytes = static_cast<long double>(number) * known.factor;
    if (bytes > static_cast<long double>(max)) {
      return invalid_argument("'" + text + "' is more than " + std::to_string(max) + " bytes");
    }
    if (bytes != std::floor(bytes)) return invalid_argument("'" + text + "' is not a whole number of bytes");
    return static_cast<std::uint64_t>(bytes);
  }
  return invalid_argument("'" + text + "': unknown unit '" + unit + "' (B, KB, MB, GB, TB, KiB, MiB, GiB, TiB)");
}

Status build_disk_fill(ParamReader& in, v1::FaultSpec& spec) {
  auto& fill = *spec.mutable_disk_fill();
  CHAOS_ASSIGN_OR_RETURN(auto given, in.text("path"));
  if (!given) return in.missing("path");
  // A copy, not a reference into the optional: GCC 12 at -O2 wrongly
  // warns that the optional's string may be uninitialized.
  const std::string path = *given;
  if (!path.starts_with('/')) return in.error("path", "must be an absolute path, not '" + path + "'");
  if (path.size() > kDiskFillParamMaxPath) {
    return in.error("path", "at most " + std::to_string(kDiskFillParamMaxPath) + " bytes");
  }
  fill.set_path(path);
  const bool bytes_given = in.has("leave_bytes");
  const bool percent_given = in.has("leave_percent");
  if (bytes_given == percent_given) {
    return in.error(bytes_given ? "leave_percent" : "leave_bytes",
                    "exactly one of leave_bytes or leave_percent is required");
  }
  if (bytes_given) {
    CHAOS_ASSIGN_OR_RETURN(auto text, in.text("leave_bytes"));
    auto bytes = parse_byte_size(*text, kDiskFillParamMaxLeave);
    if (!bytes.ok()) return in.error("leave_bytes", bytes.status().message());
    fill.set_leave_bytes(*bytes);
    return {};
  }
  CHAOS_ASSIGN_OR_RETURN(auto percent, in.percent("leave_percent"));
  if (*percent >= 100) return in.error("leave_percent", "must be below 100");
  fill.set_leave_percent(*percent);
  return {};
}

}  // namespace chaos::orchestrator
