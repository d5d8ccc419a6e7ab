#include "common/cgroup_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace chaos {

Status check_cgroup_path(std::string_view path) {
  if (path.empty() || path[0] != '/') {
    return failed_precondition("cgroup path '" + std::string(path) + "' is not absolute");
  }
  if (path.size() > kMaxCgroupPathBytes) return failed_precondition("cgroup path is too long");
  if (path.find('\0') != std::string_view::npos) return failed_precondition("cgroup path holds a NUL byte");
  std::size_t begin = 0;
  while (begin <= path.size()) {
    const std::size_t end = std::min(path.find('/', begin), path.size());
    const std::string_view part = path.substr(begin, end - begin);
    if (part == "." || part == "..") {
      return failed_precondition("cgroup path '" + std::string(path) + "' is not canonical");
    }
    begin = end + 1;
  }
  return {};
}

bool cgroup_gone_errno(int error) { return error == ENOENT || error == ENODEV || error == ENOTDIR; }

Status write_cgroup_file(const std::string& file, std::string_view value) {
  std::string shown(value);
  while (!shown.empty() && shown.back() == '\n') shown.pop_back();
  const int fd = ::open(file.c_str(), O_WRONLY | O_TRUNC | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    const int error = errno;
    if (cgroup_gone_errno(error)) return not_found(file + ": " + std::strerror(error));
    return permission_denied(file + ": cannot open for writing: " + std::strerror(error));
  }
  const ssize_t written = ::write(fd, value.data(), value.size());
  const int error = errno;
  ::close(fd);
  if (written == static_cast<ssize_t>(value.size())) return {};
  if (written < 0 && (cgroup_gone_errno(error) || error == ESRCH)) {
    return not_found(file + ": writing '" + shown + "': " + std::strerror(error));
  }
  return internal_error(file + ": writing '" + shown + "' failed: " +
                        (written < 0 ? std::strerror(error) : "short write"));
}

}  // namespace chaos
