#include "lab/lab_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <utility>

namespace chaos::lab {

namespace {

// The pid the holder wrote, for the message; "?" before it wrote one.
std::string lab_lock_holder(const std::string& path) {
  std::ifstream in(path);
  std::string pid;
  if (!(in >> pid) || pid.find_first_not_of("0123456789") != std::string::npos) return "?";
  return pid;
}

// Whether `fd` is still the file at `path` (no verb removes it, but a person
// or an older chaosctl may have).
bool lab_lock_current(int fd, const std::string& path) {
  struct stat held {}, named {};
  return ::fstat(fd, &held) == 0 && ::stat(path.c_str(), &named) == 0 && held.st_dev == named.st_dev &&
         held.st_ino == named.st_ino;
}

}  // namespace

std::string lab_lock_path(const LabLayout& layout) {
  std::filesystem::path dir = std::filesystem::path(layout.params().state_dir).lexically_normal();
  if (dir.filename().empty()) dir = dir.parent_path();  // "/run/chaos-lab/"
  return dir.string() + ".lock";
}

StatusOr<LabLock> LabLock::acquire(const LabLayout& layout) {
  const std::string path = lab_lock_path(layout);
  // A few rounds at most: each retry means someone removed the file between
  // our open and our flock.
  for (int attempt = 0; attempt < 8; ++attempt) {
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0) {
      return internal_error("lab " + layout.params().prefix + ": cannot open the lock file " + path + ": " +
                            std::strerror(errno));
    }
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      const int error = errno;
      ::close(fd);
      if (error != EWOULDBLOCK) {
        return internal_error("lab " + layout.params().prefix + ": cannot lock " + path + ": " + std::strerror(error));
      }
      return failed_precondition("lab " + layout.params().prefix + " is busy: another chaos-lab up, down or probe " +
                                 "(pid " + lab_lock_holder(path) + ") holds " + path +
                                 "; run this again when it has finished");
    }
    if (!lab_lock_current(fd, path)) {
      ::close(fd);
      continue;
    }
    // The pid is only for the message another verb prints; without it that
    // message says "pid ?".
    const std::string pid = std::to_string(::getpid()) + "\n";
    const bool written =
        ::ftruncate(fd, 0) == 0 && ::write(fd, pid.data(), pid.size()) == static_cast<ssize_t>(pid.size());
    static_cast<void>(written);
    return LabLock(fd, path);
  }
  return internal_error("lab " + layout.params().prefix + ": " + path + " kept changing while it was being locked");
}

LabLock::LabLock(LabLock&& other) noexcept : fd_(std::exchange(other.fd_, -1)), path_(std::move(other.path_)) {}

LabLock::~LabLock() {
  if (fd_ < 0) return;
  ::close(fd_);  // the file stays (lab_lock.h): releasing is closing
}

}  // namespace chaos::lab
