#include "agent/targets/namespaces/namespace_handle.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <system_error>
#include <thread>
#include <utility>

#ifndef SO_NETNS_COOKIE
#define SO_NETNS_COOKIE 71  // Linux 5.14; older libc headers lack it
#endif

namespace chaos::agent {

std::string NamespaceIdentity::to_string(const std::string& type) const {
  return type + ":[" + std::to_string(inode) + "]";
}

namespace {

std::string ns_path(int pid, const std::string& type) {
  return "/proc/" + std::to_string(pid) + "/ns/" + type;
}

Status errno_status(int error, const std::string& what) {
  if (error == ENOENT || error == ESRCH) return not_found(what + ": " + std::strerror(error));
  if (error == EACCES || error == EPERM) return permission_denied(what + ": " + std::strerror(error));
  return internal_error(what + ": " + std::strerror(error));
}

}  // namespace

StatusOr<NamespaceIdentity> namespace_of(int pid, const std::string& type) {
  if (pid <= 0) return invalid_argument("pid " + std::to_string(pid) + ": not a process");
  struct stat info {};
  const std::string path = ns_path(pid, type);
  if (::stat(path.c_str(), &info) != 0) return errno_status(errno, path);
  return NamespaceIdentity{static_cast<std::uint64_t>(info.st_dev), static_cast<std::uint64_t>(info.st_ino)};
}

std::string own_network_namespace() {
  const auto identity = namespace_of(::getpid(), "net");
  return identity.ok() ? identity->to_string("net") : "";
}

StatusOr<NamespaceHandle> NamespaceHandle::open(int pid, const std::string& type) {
  if (pid <= 0) return invalid_argument("pid " + std::to_string(pid) + ": not a process");
  const std::string path = ns_path(pid, type);
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return errno_status(errno, path);
  struct stat info {};
  if (::fstat(fd, &info) != 0) {
    const int error = errno;
    ::close(fd);
    return errno_status(error, path);
  }
  return NamespaceHandle(fd, type,
                         NamespaceIdentity{static_cast<std::uint64_t>(info.st_dev),
                                           static_cast<std::uint64_t>(info.st_ino)});
}

NamespaceHandle::NamespaceHandle(int fd, std::string type, NamespaceIdentity identity)
    : fd_(fd), type_(std::move(type)), identity_(identity) {}

NamespaceHandle::NamespaceHandle(NamespaceHandle&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), type_(std::move(other.type_)), identity_(other.identity_) {}

NamespaceHandle& NamespaceHandle::operator=(NamespaceHandle&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
    type_ = std::move(other.type_);
    identity_ = other.identity_;
  }
  return *this;
}

NamespaceHandle::~NamespaceHandle() {
  if (fd_ >= 0) ::close(fd_);
}

std::string NamespaceHandle::path() const {
  return "/proc/" + std::to_string(::getpid()) + "/fd/" + std::to_string(fd_);
}

Status enter_network_namespace(int fd) {
  if (fd < 0) return invalid_argument("network namespace: no open handle");
  if (::setns(fd, CLONE_NEWNET) != 0) return errno_status(errno, "setns(network namespace)");
  return {};
}

namespace {

StatusOr<std::uint64_t> own_network_namespace_cookie() {
  const int socket_fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (socket_fd < 0) return errno_status(errno, "socket for the network namespace cookie");
  std::uint64_t cookie = 0;
  socklen_t length = sizeof cookie;
  const int read = ::getsockopt(socket_fd, SOL_SOCKET, SO_NETNS_COOKIE, &cookie, &length);
  const int error = errno;
  ::close(socket_fd);
  if (read != 0) {
    if (error == ENOPROTOOPT) return unimplemented("this kernel gives no network namespace cookie (Linux < 5.14)");
    return errno_status(error, "getsockopt(SO_NETNS_COOKIE)");
  }
  return cookie;
}

}  // namespace

StatusOr<std::uint64_t> network_namespace_cookie(int fd) {
  if (fd < 0) return own_network_namespace_cookie();
  StatusOr<std::uint64_t> cookie = internal_error("network namespace cookie: not read");
  // setns moves only the calling thread, and the caller's (a pool thread)
  // must stay where it is.
  try {
    std::thread inside([&] {
      const Status entered = enter_network_namespace(fd);
      cookie = entered.ok() ? own_network_namespace_cookie() : StatusOr<std::uint64_t>(entered);
    });
    inside.join();
  } catch (const std::system_error& error) {
    return unavailable(std::string("network namespace cookie: no thread to read it on: ") + error.what());
  }
  return cookie;
}

NamespacedCommandRunner::NamespacedCommandRunner(CommandRunner& inner, std::string namespace_path)
    : inner_(inner), namespace_path_(std::move(namespace_path)) {}

StatusOr<CommandResult> NamespacedCommandRunner::run(const std::vector<std::string>& argv,
                                                     const RunOptions& options) {
  std::vector<std::string> entered{"nsenter", "--net=" + namespace_path_, "--"};
  entered.insert(entered.end(), argv.begin(), argv.end());
  return inner_.run(entered, options);
}

}  // namespace chaos::agent
