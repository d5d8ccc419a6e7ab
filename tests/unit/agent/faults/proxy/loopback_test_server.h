// A TCP server on 127.0.0.1 for the proxy engine's tests (no root): it runs
// a handler (an echo, a sink) on each accepted connection, one thread each,
// until destroyed.
#pragma once

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <thread>
#include <vector>

#include "common/unique_fd.h"

namespace chaos::agent::proxy {

inline sockaddr_in proxy_test_loopback(std::uint16_t port) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return address;
}

// Echoes until EOF, then closes (its FIN answers the client's).
inline void proxy_test_echo(int fd) {
  UniqueFd owned(fd);
  std::vector<char> buffer(64 * 1024);
  for (;;) {
    const ssize_t count = ::recv(fd, buffer.data(), buffer.size(), 0);
    if (count <= 0) return;
    if (::send(fd, buffer.data(), static_cast<std::size_t>(count), MSG_NOSIGNAL) != count) return;
  }
}

// `handle` owns the accepted descriptor. `receive_buffer` > 0: the accepted
// sockets' SO_RCVBUF (a small window backs the proxy's writes up). The
// destructor joins every handler: a handler that waits must be told to end
// before that.
class LoopbackTestServer {
 public:
  explicit LoopbackTestServer(std::function<void(int)> handle, int receive_buffer = 0)
      : handle_(std::move(handle)), listener_(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
    if (receive_buffer > 0) {
      ::setsockopt(listener_.get(), SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof receive_buffer);
    }
    sockaddr_in address = proxy_test_loopback(0);
    EXPECT_EQ(::bind(listener_.get(), reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
    EXPECT_EQ(::listen(listener_.get(), 16), 0);
    socklen_t length = sizeof address;
    ::getsockname(listener_.get(), reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
    acceptor_ = std::thread([this] {
      while (!stopping_) {
        pollfd ready{listener_.get(), POLLIN, 0};
        if (::poll(&ready, 1, 20) <= 0) continue;
        const int fd = ::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC);
        if (fd >= 0) workers_.emplace_back([this, fd] { handle_(fd); });
      }
    });
  }
  ~LoopbackTestServer() {
    stopping_ = true;
    acceptor_.join();
    for (auto& worker : workers_) worker.join();
  }
  LoopbackTestServer(const LoopbackTestServer&) = delete;
  LoopbackTestServer& operator=(const LoopbackTestServer&) = delete;

  std::uint16_t port() const { return port_; }

 private:
  std::function<void(int)> handle_;
  UniqueFd listener_;
  std::uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread acceptor_;
  std::vector<std::thread> workers_;  // joined after the acceptor stops adding
};

}  // namespace chaos::agent::proxy
