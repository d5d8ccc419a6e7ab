// Always-on invariant checks. A broken internal assumption is a bug, and in
// an agent that holds live faults a silently-ignored bug is worse than a
// crash whose journal recovery reverts everything; so unlike assert() these
// stay active in release builds (NDEBUG does not remove them). Environment
// failures (a failed command, a missing process) are Status values, never a
// CHAOS_CHECK.
#pragma once

namespace chaos::detail {
[[noreturn]] void check_failed(const char* condition, const char* file, int line, const char* message);
}  // namespace chaos::detail

#define CHAOS_CHECK(condition, message)                                          \
  do {                                                                           \
    if (!(condition)) ::chaos::detail::check_failed(#condition, __FILE__, __LINE__, message); \
  } while (false)
