// Re-sends TCP GSO super-packets whole (one send per up to 64 KiB instead
// of one per MTU-sized segment): the queue keeps them unsegmented
// (QueueConfig::keep_gso) and a packet socket with a virtio-net header
// (PACKET_VNET_HDR) hands them to the device, where the kernel or the
// device segments them and completes the checksum. Everything else goes
// through the fallback (raw sockets) after we complete its checksum, when
// the kernel left it partial in a plain TCP/UDP header (elsewhere: the
// verdict path).
//
// A packet socket skips routing, the neighbour layer and the netfilter hooks
// after ours (NAT, IPsec policies): only established TCP data is GSO (a
// SYN, FIN-only or RST never is), and a super-packet whose next hop is not
// a usable Ethernet neighbour, or whose connection is NATed or of unknown
// NAT status, stays on the verdict path (can_send false). The engine does
// not use this sender at all where IPsec policies exist.
#pragma once

#include <chrono>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "agent/faults/network/engine/hop_resolver.h"
#include "agent/faults/network/engine/ip_packet.h"
#include "agent/faults/network/engine/packet_sender.h"
#include "common/unique_fd.h"

namespace chaos::agent::network {

// Whether a kernel release string (uname's, "6.1.0-18-amd64") is at least
// major.minor. The packet-socket path needs NFQA_PRIORITY (Linux 5.18): on
// an older kernel a super-packet would lose its skb->priority, and with it
// a bandwidth fault's class. False for a string it cannot read.
bool kernel_release_at_least(std::string_view release, int major, int minor);

// Writes one frame through a packet socket; faked in unit tests.
class LinkSender {
 public:
  virtual ~LinkSender() = default;
  // False when not sent (socket buffer full, device gone): the packet is lost.
  virtual bool send(const VnetHeader& header, const LinkHop& hop, int ip_version, std::uint32_t priority,
                    std::span<const unsigned char> packet) = 0;
};

// An AF_PACKET SOCK_RAW socket (PACKET_VNET_HDR needs SOCK_RAW: we write
// the Ethernet header) with PACKET_VNET_HDR carrying `mark`, non-blocking
// (a full buffer loses the packet rather than stall the engine). Protocol
// 0: it never receives.
class PacketSocketLinkSender final : public LinkSender {
 public:
  static StatusOr<std::unique_ptr<PacketSocketLinkSender>> open(std::uint32_t mark);
  PacketSocketLinkSender(const PacketSocketLinkSender&) = delete;
  PacketSocketLinkSender& operator=(const PacketSocketLinkSender&) = delete;
  bool send(const VnetHeader& header, const LinkHop& hop, int ip_version, std::uint32_t priority,
            std::span<const unsigned char> packet) override;

 private:
  explicit PacketSocketLinkSender(int fd) : fd_(fd) {}
  UniqueFd fd_;
  std::uint32_t priority_ = 0;  // the socket's SO_PRIORITY
};

class GsoPacketSender final : public PacketSender {
 public:
  // Link, resolver and fallback sockets, opened in the calling thread's
  // network namespace.
  static StatusOr<std::unique_ptr<GsoPacketSender>> open(std::uint32_t mark, std::unique_ptr<PacketSender> fallback);
  GsoPacketSender(std::unique_ptr<PacketSender> fallback, std::unique_ptr<HopResolver> hops,
                  std::unique_ptr<LinkSender> link);

  // The queue cannot report conntrack status and the namespace has no NAT
  // chain: a packet without a status is not NATed.
  void assume_no_nat() { no_nat_ = true; }

  bool can_send(const QueuedPacket& packet) override;
  bool send(std::span<const unsigned char> packet) override;

 private:
  // What can_send() decided for a super-packet, kept until its release: the
  // hop cache may have dropped or re-resolved (and lost) its destination
  // since, and a super-packet must never reach the raw socket (EMSGSIZE).
  struct Decision {
    LinkHop hop;
    std::uint32_t priority = 0;  // skb->priority, as queued (a bandwidth fault's CLASSIFY)
    std::uint64_t generation = 0;  // which entry of decision_order_ made it
  };
  // Resolves (or takes from the cache) the hop of a queued super-packet.
  std::optional<LinkHop> hop_to(std::span<const unsigned char> packet, const IpLayout& layout, int out_interface);
  // The hop can_send() found for this destination, without asking the
  // kernel: a packet being released never resolves (a SYN's release would
  // ask before its own ARP exchange and cache "no neighbour").
  std::optional<LinkHop> known_hop(std::span<const unsigned char> packet, const IpLayout& layout) const;

  struct CachedHop {
    std::optional<LinkHop> hop;
    std::chrono::steady_clock::time_point expires;
  };
  std::unique_ptr<PacketSender> fallback_;
  std::unique_ptr<HopResolver> hops_;
  std::unique_ptr<LinkSender> link_;
  // By destination address; bounded (cleared when full). Entries expire so
  // a changed route or neighbour is picked up.
  std::map<std::string, CachedHop> cache_;
  // By super-packet (flow, sequence number, length). Bounded: the oldest
  // goes first, and only a packet the holder did not keep (over its cap)
  // or a retransmission's twin is ever left behind.
  std::map<std::string, Decision> decisions_;
  std::deque<std::pair<std::string, std::uint64_t>> decision_order_;
  std::uint64_t decisions_made_ = 0;
  std::vector<unsigned char> scratch_;
  bool no_nat_ = false;
};

}  // namespace chaos::agent::network
