// Sends one query to the node's real resolver and returns its answer. Each
// exchange uses a fresh socket carrying kUpstreamSocketMark (SO_MARK) so the
// redirect chain lets it through, and a fresh random source port, as a stub
// resolver would.
#pragma once

#include <chrono>
#include <cstdint>
#include <span>

#include "agent/faults/dns/dns_message.h"
#include "agent/faults/dns/resolv_conf.h"
#include "agent/faults/dns/socket_io.h"

namespace chaos::agent::dns {

struct UpstreamOptions {
  // 0 leaves sockets unmarked (unit tests without CAP_NET_ADMIN).
  std::uint32_t socket_mark = 0;
  // Below glibc's default 5 s per try, so a slow upstream surfaces as a
  // timeout to the client rather than as a late duplicate.
  std::chrono::milliseconds timeout{4000};
  int cancel_fd = -1;
};

StatusOr<Bytes> exchange_udp(const UpstreamResolver& upstream, std::span<const std::uint8_t> query,
                             const UpstreamOptions& options);

StatusOr<Bytes> exchange_tcp(const UpstreamResolver& upstream, std::span<const std::uint8_t> query,
                             const UpstreamOptions& options);

}  // namespace chaos::agent::dns
