#include "agent/faults/dns/socket_io.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace chaos::agent::dns {

namespace {

int milliseconds_until(SteadyDeadline deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
  if (left.count() <= 0) return 0;
  return static_cast<int>(std::min<long long>(left.count(), 60'000));
}

Status read_exact(int fd, std::uint8_t* data, std::size_t size, int cancel_fd, SteadyDeadline deadline) {
  std::size_t done = 0;
  while (done < size) {
    CHAOS_RETURN_IF_ERROR(wait_ready(fd, cancel_fd, deadline));
    const ssize_t got = ::recv(fd, data + done, size - done, MSG_DONTWAIT);
    if (got == 0) return unavailable("peer closed the connection");
    if (got < 0) {
      if (errno == EAGAIN || errno == EINTR) continue;
      return unavailable("recv: " + errno_text());
    }
    done += static_cast<std::size_t>(got);
  }
  return {};
}

}  // namespace

std::string errno_text() { return std::strerror(errno); }

Status wait_ready(int fd, int cancel_fd, SteadyDeadline deadline, bool for_write) {
  while (true) {
    pollfd fds[2] = {{fd, static_cast<short>(for_write ? POLLOUT : POLLIN), 0}, {cancel_fd, POLLIN, 0}};
    const int timeout = milliseconds_until(deadline);
    const int ready = ::poll(fds, cancel_fd >= 0 ? 2 : 1, timeout);
    if (ready < 0) {
      if (errno == EINTR) continue;
      return internal_error("poll: " + errno_text());
    }
    if (cancel_fd >= 0 && (fds[1].revents & POLLIN)) return cancelled("dns stub is stopping");
    if (fds[0].revents != 0) return {};
    if (timeout == 0 || std::chrono::steady_clock::now() >= deadline) {
      return deadline_exceeded("no data before the deadline");
    }
  }
}

Status write_framed(int fd, std::span<const std::uint8_t> message, int cancel_fd, SteadyDeadline deadline) {
  if (message.size() > 0xFFFF) return invalid_argument("dns message larger than 65535 octets");
  Bytes frame;
  frame.reserve(message.size() + 2);
  frame.push_back(static_cast<std::uint8_t>(message.size() >> 8));
  frame.push_back(static_cast<std::uint8_t>(message.size() & 0xFF));
  frame.insert(frame.end(), message.begin(), message.end());
  std::size_t done = 0;
  while (done < frame.size()) {
    CHAOS_RETURN_IF_ERROR(wait_ready(fd, cancel_fd, deadline, /*for_write=*/true));
    const ssize_t sent = ::send(fd, frame.data() + done, frame.size() - done, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (sent < 0) {
      if (errno == EAGAIN || errno == EINTR) continue;
      return unavailable("send: " + errno_text());
    }
    done += static_cast<std::size_t>(sent);
  }
  return {};
}

StatusOr<Bytes> read_framed(int fd, int cancel_fd, SteadyDeadline deadline) {
  std::uint8_t length_bytes[2];
  CHAOS_RETURN_IF_ERROR(read_exact(fd, length_bytes, 2, cancel_fd, deadline));
  const std::size_t length = static_cast<std::size_t>((length_bytes[0] << 8) | length_bytes[1]);
  Bytes message(length);
  if (length > 0) CHAOS_RETURN_IF_ERROR(read_exact(fd, message.data(), length, cancel_fd, deadline));
  return message;
}

}  // namespace chaos::agent::dns
