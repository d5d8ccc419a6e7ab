#include "agent/faults/dns/name_pattern.h"

#include <cctype>

namespace chaos::agent::dns {

namespace {

// Longer than any name DNS can carry (253 characters in text form) plus
// some room for '*' runs; anything larger is a mistake or an attack.
constexpr std::size_t kMaxPatternLength = 300;

// Iterative glob with single backtrack point: linear in practice, never
// exponential on hostile patterns like "*a*a*a*a*b".
bool glob_match(std::string_view pattern, std::string_view name) {
  std::size_t p = 0;
  std::size_t n = 0;
  std::size_t star = std::string_view::npos;
  std::size_t star_name = 0;
  while (n < name.size()) {
    if (p < pattern.size() && (pattern[p] == '?' || pattern[p] == name[n])) {
      ++p;
      ++n;
    } else if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      star_name = n;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      n = ++star_name;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

}  // namespace

std::string normalize_name(std::string_view name) {
  std::string text;
  text.reserve(name.size());
  for (char c : name) text += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (text.size() > 1 && text.back() == '.') text.pop_back();
  return text;
}

StatusOr<NamePattern> NamePattern::compile(std::string_view text) {
  if (text.empty()) return invalid_argument("pattern is empty");
  if (text.size() > kMaxPatternLength) {
    return invalid_argument("pattern is longer than " + std::to_string(kMaxPatternLength) + " characters");
  }
  for (char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte <= 0x20 || byte >= 0x7F) {
      return invalid_argument("pattern contains a space, control or non-ASCII character");
    }
  }
  return NamePattern(normalize_name(text));
}

bool NamePattern::matches(std::string_view name) const {
  return glob_match(normalized_, normalize_name(name));
}

}  // namespace chaos::agent::dns
