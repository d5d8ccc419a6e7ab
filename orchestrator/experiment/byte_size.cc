#include "orchestrator/experiment/byte_size.h"

#include <strings.h>

#include <cctype>
#include <cmath>
#include <cstdlib>

namespace chaos::orchestrator {

namespace {

constexpr std::size_t kByteSizeMaxText = 64;

struct ByteSizeUnit {
  const char* name;
  double factor;
  bool decimal;
};

constexpr ByteSizeUnit kByteSizeUnits[] = {
    {"", 1, false},         {"b", 1, false},           {"kb", 1e3, true},
    {"mb", 1e6, true},      {"gb", 1e9, true},         {"tb", 1e12, true},
    {"kib", 1024.0, false}, {"mib", 1048576.0, false}, {"gib", 1073741824.0, false},
    {"tib", 1099511627776.0, false},
};

}  // namespace

StatusOr<std::uint64_t> parse_byte_size(const std::string& text, std::uint64_t max, ByteUnits units) {
  const bool binary_only = units == ByteUnits::kBinaryOnly;
  const std::string example = binary_only ? "a size such as 1048576, \"512KiB\", \"256MiB\" or \"1.5GiB\""
                                          : "a size such as 1048576, \"512KiB\", \"10MiB\" or \"1.5GB\"";
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
    if (known.decimal && binary_only) {
      return invalid_argument("'" + text + "': " + unit + " is not taken here (it is read as powers of 1000 " +
                              "elsewhere): use KiB, MiB, GiB, TiB or a number of bytes");
    }
    const long double bytes = static_cast<long double>(number) * known.factor;
    if (bytes > static_cast<long double>(max)) {
      return invalid_argument("'" + text + "' is more than " + std::to_string(max) + " bytes");
    }
    if (bytes != std::floor(bytes)) return invalid_argument("'" + text + "' is not a whole number of bytes");
    return static_cast<std::uint64_t>(bytes);
  }
  return invalid_argument("'" + text + "': unknown unit '" + unit + "' (" +
                          (binary_only ? "B, KiB, MiB, GiB, TiB" : "B, KB, MB, GB, TB, KiB, MiB, GiB, TiB") + ")");
}

}  // namespace chaos::orchestrator
