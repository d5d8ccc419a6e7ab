#include "agent/faults/network/engine/packet_sender.h"

#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip6.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace chaos::agent::network {

void enlarge_send_buffer(int fd) {
  constexpr int kSendBufferBytes = 4 * 1024 * 1024;
  if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &kSendBufferBytes, sizeof(kSendBufferBytes)) < 0) {
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &kSendBufferBytes, sizeof(kSendBufferBytes));
  }
}

namespace {

StatusOr<int> open_raw(int family, std::uint32_t mark, const std::string& interface) {
  // IPPROTO_RAW implies IP_HDRINCL (IPv4) and IPV6_HDRINCL (IPv6).
  const int fd = socket(family, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_RAW);
  const std::string name = family == AF_INET ? "IPv4" : "IPv6";
  if (fd < 0) return unavailable("cannot open " + name + " raw socket: " + std::strerror(errno));
  auto fail = [&](const std::string& what) -> StatusOr<int> {
    const std::string reason = std::strerror(errno);
    ::close(fd);
    return unavailable("cannot " + what + " on the " + name + " raw socket: " + reason);
  };
  if (setsockopt(fd, SOL_SOCKET, SO_MARK, &mark, sizeof(mark)) < 0) return fail("set SO_MARK");
  enlarge_send_buffer(fd);
  if (!interface.empty() &&
      setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, interface.c_str(), static_cast<socklen_t>(interface.size())) < 0) {
    return fail("bind to interface " + interface);
  }
  return fd;
}

}  // namespace

StatusOr<std::unique_ptr<RawPacketSender>> RawPacketSender::open(std::uint32_t mark, const std::string& interface) {
  std::unique_ptr<RawPacketSender> sender(new RawPacketSender());
  CHAOS_ASSIGN_OR_RETURN(sender->ipv4_, open_raw(AF_INET, mark, interface));
  CHAOS_ASSIGN_OR_RETURN(sender->ipv6_, open_raw(AF_INET6, mark, interface));
  return sender;
}

RawPacketSender::~RawPacketSender() {
  if (ipv4_ >= 0) ::close(ipv4_);
  if (ipv6_ >= 0) ::close(ipv6_);
}

bool RawPacketSender::send(std::span<const unsigned char> packet) {
  if (packet.empty()) return false;
  const int version = packet[0] >> 4;
  if (version == 4 && packet.size() >= sizeof(iphdr)) {
    iphdr header;
    std::memcpy(&header, packet.data(), sizeof(header));
    sockaddr_in destination{};
    destination.sin_family = AF_INET;
    destination.sin_addr.s_addr = header.daddr;
    return sendto(ipv4_, packet.data(), packet.size(), 0, reinterpret_cast<sockaddr*>(&destination),
                  sizeof(destination)) == static_cast<ssize_t>(packet.size());
  }
  if (version == 6 && packet.size() >= sizeof(ip6_hdr)) {
    ip6_hdr header;
    std::memcpy(&header, packet.data(), sizeof(header));
    sockaddr_in6 destination{};
    destination.sin6_family = AF_INET6;
    destination.sin6_addr = header.ip6_dst;
    return sendto(ipv6_, packet.data(), packet.size(), 0, reinterpret_cast<sockaddr*>(&destination),
                  sizeof(destination)) == static_cast<ssize_t>(packet.size());
  }
  return false;
}

}  // namespace chaos::agent::network
