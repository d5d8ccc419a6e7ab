#include "agent/faults/dns/loopback_listeners.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>

namespace chaos::agent::dns {

namespace {

constexpr int kBindAttempts = 16;
constexpr int kListenBacklog = 64;

StatusOr<UniqueFd> bind_socket(int family, int type, std::uint16_t port) {
  UniqueFd fd(::socket(family, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd.valid()) return unavailable("socket: " + errno_text());
  const int on = 1;
  ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  int result = 0;
  if (family == AF_INET) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    result = ::bind(fd.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address);
  } else {
    ::setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on);
    sockaddr_in6 address{};
    address.sin6_family = AF_INET6;
    address.sin6_port = htons(port);
    address.sin6_addr = in6addr_loopback;
    result = ::bind(fd.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address);
  }
  if (result != 0) {
    const int error = errno;
    Status status = error == EADDRINUSE ? already_exists("port in use") : unavailable("bind: " + errno_text());
    errno = error;
    return status;
  }
  if (type == SOCK_STREAM && ::listen(fd.get(), kListenBacklog) != 0) {
    return unavailable("listen: " + errno_text());
  }
  return fd;
}

std::uint16_t bound_port(int fd) {
  sockaddr_in address{};
  socklen_t length = sizeof address;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  return ntohs(address.sin_port);
}

// IPv6 is optional: a namespace without it (or with ::1 missing) simply
// gets no IPv6 redirect. A port clash is not optional: the caller retries.
Status bind_ipv6_pair(LoopbackListeners& listeners) {
  auto udp6 = bind_socket(AF_INET6, SOCK_DGRAM, listeners.port);
  if (!udp6.ok()) return udp6.status().code() == StatusCode::kAlreadyExists ? udp6.status() : Status{};
  auto tcp6 = bind_socket(AF_INET6, SOCK_STREAM, listeners.port);
  if (!tcp6.ok()) return tcp6.status().code() == StatusCode::kAlreadyExists ? tcp6.status() : Status{};
  listeners.udp6 = std::move(udp6).value();
  listeners.tcp6 = std::move(tcp6).value();
  return {};
}

}  // namespace

StatusOr<LoopbackListeners> bind_loopback_listeners() {
  Status last = unavailable("no attempt made");
  for (int attempt = 0; attempt < kBindAttempts; ++attempt) {
    LoopbackListeners listeners;
    CHAOS_ASSIGN_OR_RETURN(listeners.udp4, bind_socket(AF_INET, SOCK_DGRAM, 0));
    listeners.port = bound_port(listeners.udp4.get());
    auto tcp4 = bind_socket(AF_INET, SOCK_STREAM, listeners.port);
    if (!tcp4.ok()) {
      last = tcp4.status();
      if (last.code() == StatusCode::kAlreadyExists) continue;
      return last.with_context("dns stub tcp 127.0.0.1");
    }
    listeners.tcp4 = std::move(tcp4).value();
    last = bind_ipv6_pair(listeners);
    if (last.ok()) return listeners;
  }
  return last.with_context("dns stub: no free port on loopback for udp+tcp after " +
                           std::to_string(kBindAttempts) + " attempts");
}

}  // namespace chaos::agent::dns
