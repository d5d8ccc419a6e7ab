#include "agent/faults/dns/resolv_conf.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <sstream>

#include "agent/faults/dns/socket_io.h"

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

StatusOr<UpstreamResolver> read_resolv_conf_in_root(const std::string& root) {
  const std::string path = root + "/etc/resolv.conf";
  UniqueFd root_fd(::open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!root_fd.valid()) return failed_precondition("cannot open " + root + ": " + errno_text());
  open_how how{};
  // Non-blocking: a FIFO planted as resolv.conf must not hang the apply.
  how.flags = O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY;
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  UniqueFd fd(static_cast<int>(::syscall(SYS_openat2, root_fd.get(), "etc/resolv.conf", &how, sizeof how)));
  if (!fd.valid()) return failed_precondition("cannot read " + path + ": " + errno_text());
  struct stat info {};
  if (::fstat(fd.get(), &info) != 0) return failed_precondition("cannot read " + path + ": " + errno_text());
  if (!S_ISREG(info.st_mode)) return failed_precondition("cannot read " + path + ": not a regular file");
  std::string text;
  char buffer[4096];
  while (text.size() < kMaxResolvConfBytes) {
    const ssize_t got = ::read(fd.get(), buffer, sizeof buffer);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) return failed_precondition("cannot read " + path + ": " + errno_text());
    if (got == 0) break;
    text.append(buffer, static_cast<std::size_t>(got));
  }
  auto upstream = parse_resolv_conf(text);
  if (!upstream.ok()) return upstream.status().with_context(path);
  return upstream;
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
