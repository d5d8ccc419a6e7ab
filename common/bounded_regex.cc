#include "common/bounded_regex.h"

#include <re2/re2.h>

namespace chaos {

StatusOr<BoundedRegex> BoundedRegex::compile(const std::string& pattern) {
  if (pattern.size() > kMaxPatternBytes) {
    return invalid_argument("longer than " + std::to_string(kMaxPatternBytes) + " bytes");
  }
  RE2::Options options;
  options.set_max_mem(kMaxMemoryBytes);
  options.set_never_capture(true);
  options.set_log_errors(false);  // errors are returned, not printed to stderr
  auto regex = std::make_shared<const RE2>(pattern, options);
  if (!regex->ok()) return invalid_argument("invalid regex: " + regex->error());
  return BoundedRegex(std::move(regex));
}

BoundedRegex::BoundedRegex(std::shared_ptr<const re2::RE2> regex) : regex_(std::move(regex)) {}

bool BoundedRegex::found_in(std::string_view text) const {
  return RE2::PartialMatch(re2::StringPiece(text.data(), text.size()), *regex_);
}

const std::string& BoundedRegex::pattern() const { return regex_->pattern(); }

}  // namespace chaos
