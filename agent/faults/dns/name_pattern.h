// Which query names a DNS fault touches: exact names or globs ("*.lab",
// "db-?.example.com"), compared case-insensitively (RFC 4343) and without
// regard to a trailing dot, so "API.Lab." matches "*.lab".
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"

namespace chaos::agent::dns {

class NamePattern {
 public:
  // INVALID_ARGUMENT for empty, over-long or non-printable patterns.
  static StatusOr<NamePattern> compile(std::string_view text);

  // `name` as DnsQuestion::dotted_lower_name() spells it.
  bool matches(std::string_view name) const;
  const std::string& text() const { return normalized_; }

 private:
  explicit NamePattern(std::string normalized) : normalized_(std::move(normalized)) {}
  std::string normalized_;
};

// Lower case without a trailing dot ("." stays "."), as patterns and names
// are compared.
std::string normalize_name(std::string_view name);

}  // namespace chaos::agent::dns
