// IPv4 and IPv6 socket addresses as the proxy handles them: printed as
// "10.0.0.3:4222" or "[fd00::3]:4222", parsed back (an IPv6 literal needs
// its brackets when a port follows, else "fd00::3:4222" would be ambiguous),
// and a redirected connection's original destination read from conntrack
// (SO_ORIGINAL_DST for IPv4, IP6T_SO_ORIGINAL_DST for IPv6).
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace chaos::agent::proxy {

struct SocketAddress {
  sockaddr_storage storage{};

  int family() const { return storage.ss_family; }
  std::uint16_t port() const;
  // sizeof(sockaddr_in) or sizeof(sockaddr_in6), for bind/connect.
  socklen_t length() const;
  const sockaddr* get() const { return reinterpret_cast<const sockaddr*>(&storage); }
  sockaddr* get() { return reinterpret_cast<sockaddr*>(&storage); }
  // Same family, address and port.
  bool operator==(const SocketAddress& other) const;
  // The wildcard address (0.0.0.0 or ::) of its family.
  bool is_any() const;
};

// "10.0.0.3:4222", "[fd00::3]:4222"; "?" for another family.
std::string socket_address_text(const SocketAddress& address);

// The address part alone: "10.0.0.3", "fd00::3".
std::string socket_host_text(const SocketAddress& address);

// "host:port" with an IPv4 host or a bracketed IPv6 one, port 1..65535;
// INVALID_ARGUMENT naming `field` and what is wrong.
StatusOr<SocketAddress> parse_socket_address(std::string_view text, const std::string& field);

// `family` (AF_INET / AF_INET6) at `host` ("127.0.0.1", "::1", "::") and
// `port`; nullopt for a host that is not a literal of that family.
std::optional<SocketAddress> socket_address_of(int family, const std::string& host, std::uint16_t port);

// Where the connection accepted on `fd` (of `family`) was headed before
// the nat redirect; nullopt when conntrack has no redirect for it.
std::optional<SocketAddress> original_destination(int fd, int family);

}  // namespace chaos::agent::proxy
