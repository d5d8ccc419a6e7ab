#include "agent/faults/dns/resolv_conf.h"

#include <arpa/inet.h>

#include <cstring>
#include <fstream>
#include <sstream>

namespace chaos::agent::dns {

namespace {

constexpr std::uint16_t kDnsPort = 53;
// resolv.conf is a few lines; refuse to slurp something enormous.
constexpr std::size_t kMaxResolvConfBytes = 1 << 20;

}  // namespace

StatusOr<UpstreamResolver> upstream_from_text(const std::string& address_text) {
  UpstreamResolver upstream;
  upstream.text = address_text;
  sockaddr_in v4{};
  sockaddr_in6 v6{};
  if (inet_pton(AF_INET, address_text.c_str(), &v4.sin_addr) == 1) {
    v4.sin_family = AF_INET;
    v4.sin_port = htons(kDnsPort);
    std::memcpy(&upstream.address, &v4, sizeof v4);
    upstream.address_length = sizeof v4;
    upstream.loopback = (ntohl(v4.sin_addr.s_addr) >> 24) == 127;
    return upstream;
  }
  if (inet_pton(AF_INET6, address_text.c_str(), &v6.sin6_addr) == 1) {
    v6.sin6_family = AF_INET6;
    v6.sin6_port = htons(kDnsPort);
    std::memcpy(&upstream.address, &v6, sizeof v6);
    upstream.address_length = sizeof v6;
    upstream.loopback = IN6_IS_ADDR_LOOPBACK(&v6.sin6_addr);
    return upstream;
  }
  return invalid_argument("'" + address_text.substr(0, 64) + "' is not an IP address");
}

StatusOr<UpstreamResolver> parse_resolv_conf(std::string_view text) {
  std::istringstream lines{std::string(text)};
  std::string line;
  while (std::getline(lines, line)) {
    std::istringstream words(line);
    std::string keyword;
    std::string address;
    if (!(words >> keyword) || keyword != "nameserver" || !(words >> address)) continue;
    auto upstream = upstream_from_text(address);
    if (upstream.ok()) return upstream;
  }
  return upstream_from_text("127.0.0.1");
}

StatusOr<UpstreamResolver> read_resolv_conf(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return failed_precondition("cannot read " + path + ": " + std::strerror(errno));
  std::string text(kMaxResolvConfBytes, '\0');
  file.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<std::size_t>(file.gcount()));
  auto upstream = parse_resolv_conf(text);
  if (!upstream.ok()) return upstream.status().with_context(path);
  return upstream;
}

}  // namespace chaos::agent::dns
