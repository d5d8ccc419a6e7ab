#include "common/host_port.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>

namespace chaos {

namespace {

// inet_ntop's spelling of an IP literal; empty when `host` is not one.
std::string host_port_ip_literal(const std::string& host) {
  unsigned char bytes[16];
  char text[INET6_ADDRSTRLEN];
  if (inet_pton(AF_INET, host.c_str(), bytes) == 1) return inet_ntop(AF_INET, bytes, text, sizeof text);
  if (inet_pton(AF_INET6, host.c_str(), bytes) == 1) {
    return std::string("[") + inet_ntop(AF_INET6, bytes, text, sizeof text) + "]";
  }
  return "";
}

// An IPv6 address, with or without a zone ("fe80::1%eth0").
bool host_port_is_ipv6(const std::string& host) {
  unsigned char bytes[16];
  return inet_pton(AF_INET6, host.substr(0, host.find('%')).c_str(), bytes) == 1;
}

bool host_port_digits_and_dots(const std::string& host) {
  return std::all_of(host.begin(), host.end(), [](char c) { return (c >= '0' && c <= '9') || c == '.'; });
}

bool host_port_name_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_';
}

}  // namespace

bool is_unbracketed_ipv6_host_port(const std::string& address) {
  const auto colon = address.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == address.size()) return false;
  const std::string host = address.substr(0, colon);
  const std::string tail = address.substr(colon + 1);
  const bool tail_is_port = std::all_of(tail.begin(), tail.end(), [](char c) { return c >= '0' && c <= '9'; });
  return tail_is_port && host.find(':') != std::string::npos && host_port_is_ipv6(host);
}

StatusOr<std::pair<std::string, int>> split_host_port(const std::string& address, const std::string& what,
                                                      bool* bracketed) {
  const auto colon = address.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == address.size()) {
    return invalid_argument(what + ": expected HOST:PORT, got '" + address + "'");
  }
  std::string host = address.substr(0, colon);
  const bool in_brackets = host.size() > 2 && host.front() == '[' && host.back() == ']';
  if (in_brackets) host = host.substr(1, host.size() - 2);
  if (bracketed != nullptr) *bracketed = in_brackets;
  if (!in_brackets && host.find(':') != std::string::npos) {
    if (is_unbracketed_ipv6_host_port(address)) {
      return invalid_argument(what + ": IPv6 address in '" + address + "' must be in brackets, as [" + host + "]:" +
                              address.substr(colon + 1) + " (without them the last ':' can be read as part of it)");
    }
    return invalid_argument(what + ": expected HOST:PORT or [IPV6]:PORT, got '" + address + "'");
  }
  const std::string port_text = address.substr(colon + 1);
  int port = 0;
  for (char c : port_text) {
    if (c < '0' || c > '9') return invalid_argument(what + ": port '" + port_text + "' is not a number");
    port = port * 10 + (c - '0');
    if (port > 65535) return invalid_argument(what + ": port " + port_text + " is out of range");
  }
  return std::make_pair(host, port);
}


StatusOr<std::string> canonical_host_port(const std::string& address, const std::string& what) {
  bool bracketed = false;
  auto parsed = split_host_port(address, what, &bracketed);
  if (!parsed.ok()) return parsed.status();
  std::string host = parsed->first;
  const std::string port = ":" + std::to_string(parsed->second);
  if (bracketed && !host_port_is_ipv6(host)) {
    return invalid_argument(what + ": brackets in '" + address + "' hold '" + host + "', which is not an IPv6 address");
  }
  // "fe80::1%eth0": the zone names an interface, compared as written.
  const auto percent = host.find('%');
  if (percent != std::string::npos && percent > 0) {
    if (host_port_is_ipv6(host)) {
      const std::string literal = host_port_ip_literal(host.substr(0, percent));
      return literal.substr(0, literal.size() - 1) + host.substr(percent) + "]" + port;
    }
  }
  if (const std::string literal = host_port_ip_literal(host); !literal.empty()) return literal + port;
  if (!host.empty() && host_port_digits_and_dots(host)) {
    return invalid_argument(what + ": host '" + host + "' of '" + address +
                            "' is digits and dots but not an IPv4 address (four numbers 0-255 without leading "
                            "zeros)");
  }
  if (!host.empty() && host.back() == '.') host.pop_back();
  const bool name = !host.empty() && host.front() != '.' && host.front() != '-' &&
                    std::all_of(host.begin(), host.end(), host_port_name_char);
  if (!name) return invalid_argument(what + ": host '" + parsed->first + "' of '" + address +
                                     "' is neither an IP address nor a host name");
  for (auto& c : host) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return host + port;
}

}  // namespace chaos
