#include "agent/open_file_limit.h"

#include <cerrno>
#include <cstring>
#include <string>

namespace chaos::agent {

StatusOr<OpenFileLimit> raise_open_file_limit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) {
    return internal_error(std::string("getrlimit(RLIMIT_NOFILE): ") + std::strerror(errno));
  }
  OpenFileLimit result{limit.rlim_cur, limit.rlim_max};
  if (limit.rlim_cur == limit.rlim_max) return result;
  limit.rlim_cur = limit.rlim_max;
  if (::setrlimit(RLIMIT_NOFILE, &limit) != 0) {
    return internal_error("setrlimit(RLIMIT_NOFILE, " + std::to_string(limit.rlim_max) + "): " + std::strerror(errno));
  }
  return result;
}

}  // namespace chaos::agent
