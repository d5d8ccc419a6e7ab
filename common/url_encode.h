// Percent-encoding of a URL query parameter's value (RFC 3986): unreserved
// characters as they are, every other byte %XX.
#pragma once

#include <cctype>
#include <string>

namespace chaos {

inline std::string url_encode(const std::string& text) {
  static constexpr char kHexDigits[] = "0123456789ABCDEF";
  std::string encoded;
  for (const unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      encoded += static_cast<char>(c);
    } else {
      encoded += '%';
      encoded += kHexDigits[c >> 4];
      encoded += kHexDigits[c & 15];
    }
  }
  return encoded;
}

}  // namespace chaos
