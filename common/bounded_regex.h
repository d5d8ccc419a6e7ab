// Regular expressions from requests and config files (process targets,
// protected-process patterns). RE2 rather than std::regex: matching is
// linear in the text, never backtracks, never recurses per character, and
// the compiled form has a memory cap, so a hostile pattern or a huge
// command line cannot hang or crash the agent. RE2 syntax: no
// backreferences and no lookaround.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"

namespace re2 {
class RE2;
}

namespace chaos {

class BoundedRegex {
 public:
  static constexpr std::size_t kMaxPatternBytes = 1024;
  // For the compiled program and its DFA caches; a pattern that needs more
  // does not compile.
  static constexpr std::int64_t kMaxMemoryBytes = 4 << 20;

  // INVALID_ARGUMENT "invalid regex: <RE2's error>" or "longer than 1024
  // bytes"; callers prefix the field.
  static StatusOr<BoundedRegex> compile(const std::string& pattern);

  // Search semantics: true when the pattern matches anywhere in `text`
  // (anchor with ^ and $ to match all of it).
  bool found_in(std::string_view text) const;
  const std::string& pattern() const;

 private:
  explicit BoundedRegex(std::shared_ptr<const re2::RE2> regex);
  // Shared and immutable: RE2's matching is thread-safe on a const object.
  std::shared_ptr<const re2::RE2> regex_;
};

}  // namespace chaos
