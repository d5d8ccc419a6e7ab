#include "lab/probe/payload.h"

#include <cctype>
#include <charconv>

namespace chaos::lab::probe {

namespace {

constexpr std::size_t kMaxRunIdLength = 64;

template <typename Number>
bool parse_number(std::string_view text, Number& value) {
  if (text.empty()) return false;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  return error == std::errc() && end == text.data() + text.size();
}

}  // namespace

std::string encode_payload(const Payload& payload) {
  return payload.run_id + " " + std::to_string(payload.sequence) + " " + std::to_string(payload.published_ns);
}

std::optional<Payload> decode_payload(std::string_view text) {
  const auto first_space = text.find(' ');
  if (first_space == std::string_view::npos) return std::nullopt;
  const auto second_space = text.find(' ', first_space + 1);
  if (second_space == std::string_view::npos) return std::nullopt;
  Payload payload;
  payload.run_id = std::string(text.substr(0, first_space));
  if (payload.run_id.empty() || payload.run_id.size() > kMaxRunIdLength) return std::nullopt;
  for (char c : payload.run_id) {
    if (!std::isalnum(static_cast<unsigned char>(c))) return std::nullopt;
  }
  if (!parse_number(text.substr(first_space + 1, second_space - first_space - 1), payload.sequence)) {
    return std::nullopt;
  }
  if (!parse_number(text.substr(second_space + 1), payload.published_ns)) return std::nullopt;
  return payload;
}

}  // namespace chaos::lab::probe
