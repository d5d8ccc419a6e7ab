#include "common/printable_text.h"

#include <cstddef>

namespace chaos {

std::size_t control_character_bytes(std::string_view text, std::size_t at) {
  const auto byte = static_cast<unsigned char>(text[at]);
  if (byte < 0x20 || byte == 0x7f) return 1;
  const bool c1 = byte == 0xc2 && at + 1 < text.size() && static_cast<unsigned char>(text[at + 1]) >= 0x80 &&
                  static_cast<unsigned char>(text[at + 1]) <= 0x9f;
  return c1 ? 2 : 0;
}

std::string printable_text(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    const std::size_t control = control_character_bytes(text, i);
    out += control > 0 ? '?' : text[i];  // a C1 control's two bytes become one '?'
    i += control > 0 ? control : 1;
  }
  return out;
}

}  // namespace chaos
