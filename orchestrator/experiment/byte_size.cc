#include "orchestrator/experiment/byte_size.h"

#include <strings.h>

#include <cctype>

namespace chaos::orchestrator {

namespace {

constexpr std::size_t kByteSizeMaxText = 64;
constexpr std::size_t kByteSizeMaxDigits = 18;
__extension__ typedef unsigned __int128 ByteSizeWide;  // GCC's 128-bit integer

struct ByteSizeUnit {
  const char* name;
  std::uint64_t factor;
  bool decimal;
};

constexpr ByteSizeUnit kByteSizeUnits[] = {
    {"", 1, false},           {"b", 1, false},           {"kb", 1'000, true},
    {"mb", 1'000'000, true},  {"gb", 1'000'000'000, true}, {"tb", 1'000'000'000'000, true},
    {"kib", 1ULL << 10, false}, {"mib", 1ULL << 20, false}, {"gib", 1ULL << 30, false},
    {"tib", 1ULL << 40, false},
};

}  // namespace

StatusOr<std::uint64_t> parse_byte_size(const std::string& text, std::uint64_t max, ByteUnits units) {
  const bool binary_only = units == ByteUnits::kBinaryOnly;
  const std::string example = binary_only ? "a size such as 1048576, \"512KiB\", \"256MiB\" or \"1.5GiB\""
                                          : "a size such as 1048576, \"512KiB\", \"10MiB\" or \"1.5GB\"";
  if (text.empty() || text.size() > kByteSizeMaxText) return invalid_argument("'" + text + "' is not " + example);
  // The number in decimal digits, read exactly (no binary floating point:
  // "1.1KB" is 1100 bytes, not 1100.0000000000002).
  std::size_t at = 0;
  std::string whole_digits;
  std::string fraction_digits;
  while (at < text.size() && std::isdigit(static_cast<unsigned char>(text[at]))) whole_digits += text[at++];
  if (at < text.size() && text[at] == '.') {
    ++at;
    while (at < text.size() && std::isdigit(static_cast<unsigned char>(text[at]))) fraction_digits += text[at++];
  }
  if ((whole_digits.empty() && fraction_digits.empty()) || whole_digits.size() > kByteSizeMaxDigits ||
      fraction_digits.size() > kByteSizeMaxDigits) {
    return invalid_argument("'" + text + "' is not " + example);
  }
  std::string unit = text.substr(at);
  if (!unit.empty() && unit.front() == ' ') unit.erase(0, 1);
  for (const auto& known : kByteSizeUnits) {
    if (::strcasecmp(unit.c_str(), known.name) != 0) continue;
    if (known.decimal && binary_only) {
      return invalid_argument("'" + text + "': " + unit + " is not taken here (it is read as powers of 1000 " +
                              "elsewhere): use KiB, MiB, GiB, TiB or a number of bytes");
    }
    // (whole.fraction) x factor = (digits x factor) / 10^fraction_digits,
    // in 128 bits: 18 + 18 digits (below 2^120) fit, but not always times
    // the factor (up to 2^40), so that product is checked: a wrap would turn
    // a huge size into a small one.
    ByteSizeWide scaled = 0;
    for (char digit : whole_digits + fraction_digits) scaled = scaled * 10 + static_cast<unsigned>(digit - '0');
    if (scaled > ~ByteSizeWide{0} / known.factor) {
      return invalid_argument("'" + text + "' is more than " + std::to_string(max) + " bytes");
    }
    scaled *= known.factor;
    ByteSizeWide divisor = 1;
    for (std::size_t i = 0; i < fraction_digits.size(); ++i) divisor *= 10;
    const ByteSizeWide bytes = scaled / divisor;
    if (bytes > max) return invalid_argument("'" + text + "' is more than " + std::to_string(max) + " bytes");
    // A fraction of a byte is refused when bytes were asked for; with a
    // larger unit it is rounded down ("0.1GiB" is 107374182 bytes).
    if (known.factor == 1 && scaled % divisor != 0) {
      return invalid_argument("'" + text + "' is not a whole number of bytes");
    }
    return static_cast<std::uint64_t>(bytes);
  }
  return invalid_argument("'" + text + "': unknown unit '" + unit + "' (" +
                          (binary_only ? "B, KiB, MiB, GiB, TiB" : "B, KB, MB, GB, TB, KiB, MiB, GiB, TiB") + ")");
}

}  // namespace chaos::orchestrator
