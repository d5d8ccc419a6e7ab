#include "agent/faults/stress/agent_oom_guard.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace chaos::agent::stress {

Status protect_agent_from_oom_killer(const std::string& proc_root) {
  const std::string file = proc_root + "/self/oom_score_adj";
  const int fd = ::open(file.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return permission_denied(file + ": cannot open: " + std::strerror(errno));
  const std::string value = std::to_string(kAgentOomScoreAdj);
  const ssize_t written = ::write(fd, value.data(), value.size());
  const int error = errno;
  ::close(fd);
  if (written != static_cast<ssize_t>(value.size())) {
    return permission_denied(file + ": cannot write " + value + ": " +
                             (written < 0 ? std::strerror(error) : "short write") + " (needs CAP_SYS_RESOURCE)");
  }
  return {};
}

}  // namespace chaos::agent::stress
