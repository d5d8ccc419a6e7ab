// Loopback DNS plumbing for the responder tests: a one-shot client and a
// fake upstream resolver answering every A query with 192.0.2.<octet>.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <optional>
#include <thread>

#include "tests/unit/agent/faults/dns/dns_test_packets.h"

namespace chaos::agent::dns::testing {

inline sockaddr_in loopback(std::uint16_t port) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return address;
}

// Sends `query` over udp to 127.0.0.1:port; the reply or nothing by `wait`.
inline std::optional<Packet> udp_ask(std::uint16_t port, const Packet& query, std::chrono::milliseconds wait) {
  const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  const sockaddr_in to = loopback(port);
  ::sendto(fd, query.data(), query.size(), 0, reinterpret_cast<const sockaddr*>(&to), sizeof to);
  pollfd ready{fd, POLLIN, 0};
  std::optional<Packet> reply;
  if (::poll(&ready, 1, static_cast<int>(wait.count())) == 1) {
    Packet buffer(65535);
    const ssize_t got = ::recv(fd, buffer.data(), buffer.size(), 0);
    if (got >= 0) reply = Packet(buffer.begin(), buffer.begin() + got);
  }
  ::close(fd);
  return reply;
}

inline std::optional<Packet> tcp_ask(std::uint16_t port, const Packet& query, std::chrono::milliseconds wait) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  const sockaddr_in to = loopback(port);
  std::optional<Packet> reply;
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&to), sizeof to) == 0) {
    Packet frame = {static_cast<std::uint8_t>(query.size() >> 8), static_cast<std::uint8_t>(query.size())};
    frame.insert(frame.end(), query.begin(), query.end());
    ::send(fd, frame.data(), frame.size(), MSG_NOSIGNAL);
    Packet buffer;
    const auto deadline = std::chrono::steady_clock::now() + wait;
    std::uint8_t chunk[4096];
    while (std::chrono::steady_clock::now() < deadline) {
      pollfd ready{fd, POLLIN, 0};
      if (::poll(&ready, 1, 50) != 1) continue;
      const ssize_t got = ::recv(fd, chunk, sizeof chunk, 0);
      if (got <= 0) break;
      buffer.insert(buffer.end(), chunk, chunk + got);
      if (buffer.size() >= 2 && buffer.size() >= 2u + get_u16(buffer, 0)) {
        reply = Packet(buffer.begin() + 2, buffer.begin() + 2 + get_u16(buffer, 0));
        break;
      }
    }
  }
  ::close(fd);
  return reply;
}

// Answers udp and tcp queries on 127.0.0.1:port() until destroyed.
class FakeUpstream {
 public:
  explicit FakeUpstream(std::uint8_t octet) : octet_(octet) {
    udp_ = ::socket(AF_INET, SOCK_DGRAM, 0);
    tcp_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address = loopback(0);
    ::bind(udp_, reinterpret_cast<sockaddr*>(&address), sizeof address);
    socklen_t length = sizeof address;
    ::getsockname(udp_, reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
    ::bind(tcp_, reinterpret_cast<sockaddr*>(&address), sizeof address);
    ::listen(tcp_, 8);
    thread_ = std::thread([this] { serve(); });
  }
  ~FakeUpstream() {
    stop_ = true;
    thread_.join();
    ::close(udp_);
    ::close(tcp_);
  }
  std::uint16_t port() const { return port_; }
  int queries() const { return queries_; }

 private:
  void serve() {
    while (!stop_) {
      pollfd fds[2] = {{udp_, POLLIN, 0}, {tcp_, POLLIN, 0}};
      if (::poll(fds, 2, 50) <= 0) continue;
      if (fds[0].revents) answer_udp();
      if (fds[1].revents) answer_tcp();
    }
  }
  void answer_udp() {
    Packet buffer(65535);
    sockaddr_in from{};
    socklen_t length = sizeof from;
    const ssize_t got = ::recvfrom(udp_, buffer.data(), buffer.size(), 0, reinterpret_cast<sockaddr*>(&from), &length);
    if (got < 12) return;
    ++queries_;
    const Packet answer = make_a_answer(Packet(buffer.begin(), buffer.begin() + got), octet_);
    ::sendto(udp_, answer.data(), answer.size(), 0, reinterpret_cast<sockaddr*>(&from), length);
  }
  void answer_tcp() {
    const int connection = ::accept(tcp_, nullptr, nullptr);
    std::uint8_t buffer[4096];
    ssize_t got = 0;
    ssize_t total = 0;
    while ((got = ::recv(connection, buffer + total, sizeof buffer - static_cast<std::size_t>(total), 0)) > 0) {
      total += got;
      if (total >= 2 && total >= 2 + ((buffer[0] << 8) | buffer[1])) break;
    }
    if (total > 14) {
      ++queries_;
      const Packet answer = make_a_answer(Packet(buffer + 2, buffer + total), octet_);
      Packet frame = {static_cast<std::uint8_t>(answer.size() >> 8), static_cast<std::uint8_t>(answer.size())};
      frame.insert(frame.end(), answer.begin(), answer.end());
      ::send(connection, frame.data(), frame.size(), MSG_NOSIGNAL);
    }
    ::close(connection);
  }

  std::uint8_t octet_;
  int udp_ = -1;
  int tcp_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> queries_{0};
  std::thread thread_;
};

}  // namespace chaos::agent::dns::testing
