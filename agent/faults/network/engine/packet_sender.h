// Sends whole IP packets (IPv4 or IPv6, headers included) as this host:
// how the engine re-injects the packets it took from the kernel, and how it
// sends duplicates. Faked in unit tests.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "agent/faults/network/engine/nfqueue_socket.h"
#include "common/status.h"

namespace chaos::agent::network {

class PacketSender {
 public:
  virtual ~PacketSender() = default;
  // False when the packet could not be sent (malformed, no route, socket
  // buffer full); the caller counts it as lost.
  virtual bool send(std::span<const unsigned char> packet) = 0;
  // Whether a packet like this one, just queued, can be re-sent later; if
  // not, the engine leaves it in the kernel (verdict path).
  virtual bool can_send(const QueuedPacket& packet) { return !packet.gso; }
};

// Gives a sending socket room for a burst of re-injected packets while the
// device queue drains (SO_SNDBUFFORCE as root, else as much as SO_SNDBUF may).
void enlarge_send_buffer(int fd);

// Raw sockets (IPPROTO_RAW: the caller supplies the IP header) carrying
// `mark`, which the steering chains RETURN, so a re-sent packet is not
// queued again. Non-blocking: a full socket buffer loses the packet rather
// than stalling the engine. With `interface` set, packets leave through it.
class RawPacketSender final : public PacketSender {
 public:
  static StatusOr<std::unique_ptr<RawPacketSender>> open(std::uint32_t mark, const std::string& interface);
  ~RawPacketSender() override;
  RawPacketSender(const RawPacketSender&) = delete;
  RawPacketSender& operator=(const RawPacketSender&) = delete;

  bool send(std::span<const unsigned char> packet) override;

 private:
  RawPacketSender() = default;
  int ipv4_ = -1;
  int ipv6_ = -1;
};

}  // namespace chaos::agent::network
