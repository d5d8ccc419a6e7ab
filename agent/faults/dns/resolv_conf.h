// The node's real upstream resolver, read from resolv.conf at apply time
// (inside `ip netns exec NS` that is /etc/netns/NS/resolv.conf bind-mounted
// over /etc/resolv.conf, so the plain path is right there too).
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <string>
#include <string_view>

#include "common/status.h"

namespace chaos::agent::dns {

struct UpstreamResolver {
  sockaddr_storage address{};  // port 53 filled in
  socklen_t address_length = 0;
  std::string text;            // "10.202.0.2" / "::1"
  // A local caching resolver (systemd-resolved's 127.0.0.53, a dnsmasq on
  // 127.0.0.1). Its own upstream queries leave the node on port 53 too; if
  // we redirected those, we would forward them to it again: a loop. The
  // redirect then only catches queries sent to loopback addresses.
  bool loopback = false;
  int family() const { return address.ss_family; }
};

// The first usable `nameserver` line, as glibc tries it first. With no
// nameserver line glibc uses the local machine (resolv.conf(5)), so do we.
// Scoped IPv6 addresses ("fe80::1%eth0") are skipped.
StatusOr<UpstreamResolver> parse_resolv_conf(std::string_view text);

StatusOr<UpstreamResolver> read_resolv_conf(const std::string& path);

// A container's resolver: `root`/etc/resolv.conf ("/proc/PID/root/..."),
// resolved as if `root` were "/" (openat2 RESOLVE_IN_ROOT). An image whose
// /etc/resolv.conf is an absolute symlink (to ../run/systemd/resolve/...)
// then still names a file of the container, never one of the agent's host.
// Only a regular file is read, at most 1 MiB of it.
StatusOr<UpstreamResolver> read_resolv_conf_in_root(const std::string& root);

StatusOr<UpstreamResolver> upstream_from_text(const std::string& address_text);

}  // namespace chaos::agent::dns
