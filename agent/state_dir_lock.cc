#include "agent/state_dir_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace chaos::agent {

StateDirLock::~StateDirLock() {
  if (fd_ >= 0) ::close(fd_);
}

Status StateDirLock::acquire(const std::string& state_dir) {
  std::error_code error;
  std::filesystem::create_directories(state_dir, error);
  if (error) return internal_error("state dir " + state_dir + ": " + error.message());
  const std::string path = state_dir + "/agent.lock";
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd_ < 0) return internal_error("state dir lock " + path + ": " + std::strerror(errno));
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    return failed_precondition("state dir " + state_dir + " is in use by another chaos-agent (" + path + ")");
  }
  return {};
}

}  // namespace chaos::agent
