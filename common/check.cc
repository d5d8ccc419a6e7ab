#include "common/check.h"

#include <cstdio>
#include <cstdlib>

namespace chaos::detail {

void check_failed(const char* condition, const char* file, int line, const char* message) {
  // fprintf, not iostreams: this may run while the process is in a bad state.
  std::fprintf(stderr, "%s:%d: CHAOS_CHECK(%s) failed: %s\n", file, line, condition, message);
  std::fflush(stderr);
  std::abort();
}

}  // namespace chaos::detail
