#include "lab/testbed/loopback_bridge.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sched.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace chaos::agent::integration {

namespace {

sockaddr_in loopback(int port) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return address;
}

bool write_all(int fd, const char* data, std::size_t size) {
  while (size > 0) {
    const ssize_t n = ::send(fd, data, size, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data += n;
    size -= static_cast<std::size_t>(n);
  }
  return true;
}

void no_delay(int fd) {
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

}  // namespace

LoopbackBridge::LoopbackBridge(const std::string& netns, int target_port) : target_port_(target_port) {
  const int netns_fd = ::open(("/var/run/netns/" + netns).c_str(), O_RDONLY | O_CLOEXEC);
  if (netns_fd < 0) {
    error_ = "open /var/run/netns/" + netns + ": " + std::strerror(errno);
    return;
  }
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  auto address = loopback(0);
  socklen_t length = sizeof(address);
  if (listen_fd_ < 0 || ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
      ::listen(listen_fd_, 16) != 0 ||
      ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    error_ = std::string("bridge listen on 127.0.0.1: ") + std::strerror(errno);
    ::close(netns_fd);
    return;
  }
  port_ = ntohs(address.sin_port);
  stop_fd_ = ::eventfd(0, EFD_CLOEXEC);
  acceptor_ = std::thread([this, netns_fd] { accept_loop(netns_fd); });
}

LoopbackBridge::~LoopbackBridge() {
  if (stop_fd_ >= 0) {
    const std::uint64_t one = 1;
    (void)!::write(stop_fd_, &one, sizeof(one));
  }
  if (acceptor_.joinable()) acceptor_.join();
  {
    std::lock_guard lock(mutex_);
    for (auto& pump : pumps_) pump.join();
  }
  if (listen_fd_ >= 0) ::close(listen_fd_);
  if (stop_fd_ >= 0) ::close(stop_fd_);
}

void LoopbackBridge::accept_loop(int netns_fd) {
  // Only this thread moves into the namespace: the sockets it creates for
  // the far side live there, everything else stays where it was.
  const bool entered = ::setns(netns_fd, CLONE_NEWNET) == 0;
  ::close(netns_fd);
  if (!entered) return;
  for (;;) {
    pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {stop_fd_, POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (fds[1].revents != 0) return;
    if ((fds[0].revents & POLLIN) == 0) continue;
    const int near = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (near < 0) continue;
    const int far = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    const auto target = loopback(target_port_);
    if (far < 0 || ::connect(far, reinterpret_cast<const sockaddr*>(&target), sizeof(target)) != 0) {
      // The server is gone (a SIGKILLed agent): the client sees a reset,
      // and the test's log says why (gRPC only reports the closed socket).
      std::fprintf(stderr, "loopback bridge: cannot reach 127.0.0.1:%d in the namespace: %s\n", target_port_,
                   std::strerror(errno));
      if (far >= 0) ::close(far);
      ::close(near);
      continue;
    }
    no_delay(near);
    no_delay(far);
    std::lock_guard lock(mutex_);
    pumps_.emplace_back([this, near, far] { pump(near, far); });
  }
}

void LoopbackBridge::pump(int a, int b) {
  char buffer[64 * 1024];
  bool open = true;
  while (open) {
    pollfd fds[3] = {{a, POLLIN, 0}, {b, POLLIN, 0}, {stop_fd_, POLLIN, 0}};
    if (::poll(fds, 3, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (fds[2].revents != 0) break;
    for (int side = 0; side < 2 && open; ++side) {
      if (fds[side].revents == 0) continue;
      const ssize_t n = ::recv(fds[side].fd, buffer, sizeof(buffer), 0);
      if (n < 0 && errno == EINTR) continue;
      // Either end closing ends the connection both ways: gRPC reconnects.
      open = n > 0 && write_all(fds[1 - side].fd, buffer, static_cast<std::size_t>(n));
    }
  }
  ::close(a);
  ::close(b);
}

}  // namespace chaos::agent::integration
