#include "agent/faults/proxy/socket_address.h"

#include <arpa/inet.h>
#include <linux/netfilter_ipv4.h>
#include <linux/netfilter_ipv6/ip6_tables.h>
#include <netinet/in.h>

#include <charconv>
#include <cstring>

namespace chaos::agent::proxy {

namespace {

const sockaddr_in& socket_v4(const SocketAddress& address) {
  return *reinterpret_cast<const sockaddr_in*>(&address.storage);
}

const sockaddr_in6& socket_v6(const SocketAddress& address) {
  return *reinterpret_cast<const sockaddr_in6*>(&address.storage);
}

}  // namespace

std::uint16_t SocketAddress::port() const {
  if (family() == AF_INET) return ntohs(socket_v4(*this).sin_port);
  if (family() == AF_INET6) return ntohs(socket_v6(*this).sin6_port);
  return 0;
}

socklen_t SocketAddress::length() const {
  return family() == AF_INET6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in);
}

bool SocketAddress::operator==(const SocketAddress& other) const {
  if (family() != other.family() || port() != other.port()) return false;
  if (family() == AF_INET) return socket_v4(*this).sin_addr.s_addr == socket_v4(other).sin_addr.s_addr;
  if (family() == AF_INET6) {
    return std::memcmp(&socket_v6(*this).sin6_addr, &socket_v6(other).sin6_addr, sizeof(in6_addr)) == 0;
  }
  return false;
}

bool SocketAddress::is_any() const {
  if (family() == AF_INET) return socket_v4(*this).sin_addr.s_addr == htonl(INADDR_ANY);
  if (family() == AF_INET6) return IN6_IS_ADDR_UNSPECIFIED(&socket_v6(*this).sin6_addr);
  return false;
}

std::string socket_host_text(const SocketAddress& address) {
  char text[INET6_ADDRSTRLEN] = "?";
  if (address.family() == AF_INET) {
    ::inet_ntop(AF_INET, &socket_v4(address).sin_addr, text, sizeof text);
  } else if (address.family() == AF_INET6) {
    ::inet_ntop(AF_INET6, &socket_v6(address).sin6_addr, text, sizeof text);
  }
  return text;
}

std::string socket_address_text(const SocketAddress& address) {
  const std::string port = std::to_string(address.port());
  if (address.family() == AF_INET) return socket_host_text(address) + ":" + port;
  if (address.family() == AF_INET6) return "[" + socket_host_text(address) + "]:" + port;
  return "?";
}

std::optional<SocketAddress> socket_address_of(int family, const std::string& host, std::uint16_t port) {
  SocketAddress out;
  if (family == AF_INET) {
    auto& v4 = *reinterpret_cast<sockaddr_in*>(&out.storage);
    v4.sin_family = AF_INET;
    v4.sin_port = htons(port);
    if (::inet_pton(AF_INET, host.c_str(), &v4.sin_addr) != 1) return std::nullopt;
    return out;
  }
  if (family == AF_INET6) {
    auto& v6 = *reinterpret_cast<sockaddr_in6*>(&out.storage);
    v6.sin6_family = AF_INET6;
    v6.sin6_port = htons(port);
    if (::inet_pton(AF_INET6, host.c_str(), &v6.sin6_addr) != 1) return std::nullopt;
    return out;
  }
  return std::nullopt;
}

StatusOr<SocketAddress> parse_socket_address(std::string_view text, const std::string& field) {
  const std::string shown = "\"" + std::string(text.substr(0, 64)) + "\"";
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos) return invalid_argument(field + ": " + shown + " lacks \":port\"");
  std::string_view host = text.substr(0, colon);
  const std::string_view port_text = text.substr(colon + 1);
  int family = AF_INET;
  if (!host.empty() && host.front() == '[') {
    if (host.size() < 2 || host.back() != ']') return invalid_argument(field + ": " + shown + ": unbalanced '['");
    host = host.substr(1, host.size() - 2);
    family = AF_INET6;
  } else if (host.find(':') != std::string_view::npos) {
    return invalid_argument(field + ": " + shown + ": an IPv6 address needs brackets before a port (\"[::1]:4222\")");
  }
  unsigned port = 0;
  const auto parsed = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (port_text.empty() || parsed.ec != std::errc{} || parsed.ptr != port_text.data() + port_text.size() ||
      port == 0 || port > 65535) {
    return invalid_argument(field + ": " + shown + ": the port must be 1..65535");
  }
  auto address = socket_address_of(family, std::string(host), static_cast<std::uint16_t>(port));
  if (!address) {
    return invalid_argument(field + ": " + shown + ": not an " + (family == AF_INET ? "IPv4" : "IPv6") + " address");
  }
  return *address;
}

std::optional<SocketAddress> original_destination(int fd, int family) {
  SocketAddress out;
  socklen_t length = sizeof out.storage;
  const int level = family == AF_INET6 ? SOL_IPV6 : SOL_IP;
  const int option = family == AF_INET6 ? IP6T_SO_ORIGINAL_DST : SO_ORIGINAL_DST;
  if (::getsockopt(fd, level, option, &out.storage, &length) != 0 || out.family() != family) return std::nullopt;
  return out;
}

}  // namespace chaos::agent::proxy
