// A NATS subject wildcard as subscriptions use it: tokens separated by '.',
// `*` stands for exactly one token and a final `>` for one or more tokens.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace chaos::agent::proxy {

inline constexpr std::size_t kNatsSubjectPatternMaxLength = 256;

class NatsSubjectPattern {
 public:
  // Rejects empty tokens ("a..b"), whitespace, `>` anywhere but as the last
  // token, and wildcards inside a token ("a*"), as nats-server does.
  static StatusOr<NatsSubjectPattern> compile(std::string_view pattern);

  // A subject that is not a valid subject (empty token, whitespace) never
  // matches: the filter forwards what it cannot classify.
  bool matches(std::string_view subject) const;
  const std::string& text() const { return text_; }

 private:
  std::string text_;
  std::vector<std::string> tokens_;
};

}  // namespace chaos::agent::proxy
