#include "agent/faults/dns/upstream_client.h"

#include <sys/socket.h>

#include <cerrno>

namespace chaos::agent::dns {

namespace {

constexpr std::size_t kMaxUdpMessage = 65535;

StatusOr<UniqueFd> open_marked_socket(const UpstreamResolver& upstream, int type, std::uint32_t mark) {
  UniqueFd fd(::socket(upstream.family(), type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd.valid()) return unavailable("socket: " + errno_text());
  if (mark != 0 && ::setsockopt(fd.get(), SOL_SOCKET, SO_MARK, &mark, sizeof mark) != 0) {
    return permission_denied("setsockopt(SO_MARK) needs CAP_NET_ADMIN: " + errno_text());
  }
  return fd;
}

Status connect_with_deadline(int fd, const UpstreamResolver& upstream, const UpstreamOptions& options,
                             SteadyDeadline deadline) {
  const auto* address = reinterpret_cast<const sockaddr*>(&upstream.address);
  if (::connect(fd, address, upstream.address_length) == 0) return {};
  if (errno != EINPROGRESS) return unavailable("connect: " + errno_text());
  CHAOS_RETURN_IF_ERROR(wait_ready(fd, options.cancel_fd, deadline, /*for_write=*/true));
  int error = 0;
  socklen_t length = sizeof error;
  ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length);
  if (error != 0) {
    errno = error;
    return unavailable("connect: " + errno_text());
  }
  return {};
}

}  // namespace

StatusOr<Bytes> exchange_udp(const UpstreamResolver& upstream, std::span<const std::uint8_t> query,
                             const UpstreamOptions& options) {
  CHAOS_ASSIGN_OR_RETURN(const std::uint16_t id, message_id(query));
  const auto deadline = std::chrono::steady_clock::now() + options.timeout;
  CHAOS_ASSIGN_OR_RETURN(UniqueFd fd, open_marked_socket(upstream, SOCK_DGRAM, options.socket_mark));
  auto context = [&](const Status& status) { return status.with_context("upstream " + upstream.text + " udp"); };
  if (Status status = connect_with_deadline(fd.get(), upstream, options, deadline); !status.ok()) {
    return context(status);
  }
  if (::send(fd.get(), query.data(), query.size(), MSG_NOSIGNAL) < 0) {
    return context(unavailable("send: " + errno_text()));
  }
  Bytes answer(kMaxUdpMessage);
  while (true) {
    if (Status status = wait_ready(fd.get(), options.cancel_fd, deadline); !status.ok()) return context(status);
    const ssize_t got = ::recv(fd.get(), answer.data(), answer.size(), MSG_DONTWAIT);
    if (got < 0) {
      if (errno == EAGAIN || errno == EINTR) continue;
      return context(unavailable("recv: " + errno_text()));  // e.g. ICMP port unreachable
    }
    std::span<const std::uint8_t> received(answer.data(), static_cast<std::size_t>(got));
    // The connected socket only hears from the upstream, but a late answer
    // to nothing or garbage must not be passed on as this query's answer.
    auto answer_id = message_id(received);
    if (answer_id.ok() && *answer_id == id && is_response(received)) {
      answer.resize(static_cast<std::size_t>(got));
      return answer;
    }
  }
}

StatusOr<Bytes> exchange_tcp(const UpstreamResolver& upstream, std::span<const std::uint8_t> query,
                             const UpstreamOptions& options) {
  const auto deadline = std::chrono::steady_clock::now() + options.timeout;
  CHAOS_ASSIGN_OR_RETURN(UniqueFd fd, open_marked_socket(upstream, SOCK_STREAM, options.socket_mark));
  auto context = [&](const Status& status) { return status.with_context("upstream " + upstream.text + " tcp"); };
  if (Status status = connect_with_deadline(fd.get(), upstream, options, deadline); !status.ok()) {
    return context(status);
  }
  if (Status status = write_framed(fd.get(), query, options.cancel_fd, deadline); !status.ok()) {
    return context(status);
  }
  auto answer = read_framed(fd.get(), options.cancel_fd, deadline);
  if (!answer.ok()) return context(answer.status());
  return answer;
}

}  // namespace chaos::agent::dns
