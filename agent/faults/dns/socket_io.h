// Small blocking-socket helpers shared by the stub's listeners and its
// upstream client. Every wait also watches a cancel descriptor (an eventfd
// the responder signals on stop), so revert never waits for a slow peer.
#pragma once

#include <chrono>
#include <cstdint>
#include <span>
#include <utility>

#include "agent/faults/dns/dns_message.h"
#include "common/status.h"
#include "common/unique_fd.h"

namespace chaos::agent::dns {

using chaos::UniqueFd;

using SteadyDeadline = std::chrono::steady_clock::time_point;

// "errno text" for error messages.
std::string errno_text();

// OK when `fd` is readable (or writable with `for_write`); DEADLINE_EXCEEDED
// on timeout, CANCELLED when `cancel_fd` fired.
Status wait_ready(int fd, int cancel_fd, SteadyDeadline deadline, bool for_write = false);

// DNS over TCP frames every message with a two-octet length (RFC 1035 4.2.2).
Status write_framed(int fd, std::span<const std::uint8_t> message, int cancel_fd, SteadyDeadline deadline);
StatusOr<Bytes> read_framed(int fd, int cancel_fd, SteadyDeadline deadline);

}  // namespace chaos::agent::dns
