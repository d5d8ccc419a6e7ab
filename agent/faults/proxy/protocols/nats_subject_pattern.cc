#include "agent/faults/proxy/protocols/nats_subject_pattern.h"

namespace chaos::agent::proxy {

namespace {

bool nats_pattern_is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\0'; }

}  // namespace

StatusOr<NatsSubjectPattern> NatsSubjectPattern::compile(std::string_view pattern) {
  if (pattern.empty()) return invalid_argument("subject pattern is empty");
  if (pattern.size() > kNatsSubjectPatternMaxLength) {
    return invalid_argument("subject pattern is longer than " + std::to_string(kNatsSubjectPatternMaxLength) +
                            " characters");
  }
  NatsSubjectPattern compiled;
  compiled.text_ = std::string(pattern);
  std::size_t start = 0;
  while (true) {
    const std::size_t dot = pattern.find('.', start);
    const std::string_view token = pattern.substr(start, dot == std::string_view::npos ? std::string_view::npos
                                                                                        : dot - start);
    if (token.empty()) return invalid_argument("subject pattern '" + compiled.text_ + "' has an empty token");
    for (char c : token) {
      if (nats_pattern_is_space(c)) {
        return invalid_argument("subject pattern '" + compiled.text_ + "' contains whitespace");
      }
    }
    if (token.size() > 1 && (token.find('*') != std::string_view::npos || token.find('>') != std::string_view::npos)) {
      // Inside a token the characters are literal for nats-server; a user
      // writing "orders*" means a prefix match that NATS does not have.
      return invalid_argument("subject pattern '" + compiled.text_ +
                              "': '*' and '>' must be whole tokens (\"a.*.c\", \"a.>\")");
    }
    if (token == ">" && dot != std::string_view::npos) {
      return invalid_argument("subject pattern '" + compiled.text_ + "': '>' must be the last token");
    }
    compiled.tokens_.emplace_back(token);
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return compiled;
}

bool NatsSubjectPattern::matches(std::string_view subject) const {
  if (subject.empty()) return false;
  std::size_t start = 0;
  for (std::size_t i = 0; i < tokens_.size(); ++i) {
    if (start > subject.size()) return false;  // the subject has fewer tokens
    const std::size_t dot = subject.find('.', start);
    const std::string_view token =
        subject.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (token.empty()) return false;
    for (char c : token) {
      if (nats_pattern_is_space(c)) return false;
    }
    if (tokens_[i] == ">") {
      // One or more tokens: the rest must still be a valid subject.
      for (std::size_t at = start; at < subject.size(); ++at) {
        if (nats_pattern_is_space(subject[at])) return false;
        if (subject[at] == '.' && (at + 1 == subject.size() || subject[at + 1] == '.')) return false;
      }
      return true;
    }
    if (tokens_[i] != "*" && tokens_[i] != token) return false;
    if (dot == std::string_view::npos) return i + 1 == tokens_.size();
    start = dot + 1;
  }
  return false;  // the subject has more tokens than the pattern
}

}  // namespace chaos::agent::proxy
