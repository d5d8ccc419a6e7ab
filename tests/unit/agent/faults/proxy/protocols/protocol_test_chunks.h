// Chunkings of a byte stream for the protocol tests: the parsers must give
// the same result however the network cuts the bytes.
#pragma once

#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "agent/faults/proxy/stream_filter.h"

namespace chaos::agent::proxy::testing {

inline std::vector<std::string> random_chunks(std::string_view stream, std::mt19937& random,
                                              std::size_t max_chunk = 64) {
  std::vector<std::string> chunks;
  std::size_t at = 0;
  while (at < stream.size()) {
    const std::size_t size = 1 + random() % max_chunk;
    chunks.emplace_back(stream.substr(at, size));
    at += chunks.back().size();
  }
  return chunks;
}

inline std::vector<std::string> byte_chunks(std::string_view stream) {
  std::vector<std::string> chunks;
  for (char c : stream) chunks.emplace_back(1, c);
  return chunks;
}

// The stream cut in two at `at`.
inline std::vector<std::string> split_at(std::string_view stream, std::size_t at) {
  return {std::string(stream.substr(0, at)), std::string(stream.substr(at))};
}

// Everything a verdict forwards, in emit order, ignoring delays.
inline std::string forwarded_bytes(const FilterVerdict& verdict) {
  std::string out;
  for (const auto& emit : verdict.forward) out += emit.bytes;
  return out;
}

}  // namespace chaos::agent::proxy::testing
