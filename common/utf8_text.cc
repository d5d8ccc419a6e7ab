#include "common/utf8_text.h"

#include <algorithm>

#include <nlohmann/json.hpp>

namespace chaos {

std::string valid_utf8(std::string_view text) {
  if (std::all_of(text.begin(), text.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; })) {
    return std::string(text);
  }
  // nlohmann::json's replace handler is the decoder journal.json already
  // relies on; a round trip through it gives its verdict on every byte.
  const std::string quoted =
      nlohmann::json(std::string(text)).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return nlohmann::json::parse(quoted).get<std::string>();
}

}  // namespace chaos
