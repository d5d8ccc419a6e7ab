#include "common/printable_text.h"

#include <cstddef>

namespace chaos {

std::string printable_text(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto byte = static_cast<unsigned char>(text[i]);
    // C1 controls in UTF-8 (U+0080..U+009F, 0xC2 0x80..0x9F): U+009B is a
    // one-character CSI to terminals that honour it. Both bytes become one '?'.
    const bool c1 = byte == 0xc2 && i + 1 < text.size() && static_cast<unsigned char>(text[i + 1]) >= 0x80 &&
                    static_cast<unsigned char>(text[i + 1]) <= 0x9f;
    if (c1) ++i;
    out += byte < 0x20 || byte == 0x7f || c1 ? '?' : text[i];
  }
  return out;
}

}  // namespace chaos
