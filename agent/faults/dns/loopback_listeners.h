// The stub's listening sockets: udp and tcp on 127.0.0.1 and, when the
// network namespace has IPv6 on loopback, on ::1 — all on the same port,
// because one nft `redirect to :port` serves both families.
#pragma once

#include <cstdint>

#include "agent/faults/dns/socket_io.h"
#include "common/status.h"

namespace chaos::agent::dns {

struct LoopbackListeners {
  UniqueFd udp4, tcp4, udp6, tcp6;  // udp6/tcp6 invalid without IPv6
  std::uint16_t port = 0;
};

// Lets the kernel pick a free udp port on 127.0.0.1, then claims the same
// port for the other sockets; retries a few times when another program
// holds that port for tcp or on ::1.
StatusOr<LoopbackListeners> bind_loopback_listeners();

}  // namespace chaos::agent::dns
