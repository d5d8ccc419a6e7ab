#include "agent/faults/network/engine/gso_packet_sender.h"

#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace chaos::agent::network {

namespace {

constexpr unsigned kEthernetHeaderBytes = 14;
constexpr std::size_t kMaxCachedHops = 1024;
// Twice the most copies an engine holds by default (its queue length).
constexpr std::size_t kMaxDecisions = 8192;
// A neighbour that changes is noticed within this; a destination not
// resolvable is asked again after the shorter one.
constexpr std::chrono::milliseconds kHopLifetime{1000};
constexpr std::chrono::milliseconds kNoHopLifetime{200};

// Addresses and TCP ports: what a flow's classification can depend on.
// Only for a packet whose TCP header tcp_gso_header() accepted.
std::string flow_of(std::span<const unsigned char> packet, const IpLayout& layout) {
  const auto addresses = layout.version == 4 ? packet.subspan(12, 8) : packet.subspan(8, 32);
  std::string key(addresses.begin(), addresses.end());
  const auto ports = packet.subspan(layout.transport_offset, 4);
  key.append(ports.begin(), ports.end());
  return key;
}

// One super-packet: its flow, TCP sequence number and IP length.
std::string super_packet_of(std::span<const unsigned char> packet, const IpLayout& layout) {
  std::string key = flow_of(packet, layout);
  const auto sequence = packet.subspan(layout.transport_offset + 4, 4);
  key.append(sequence.begin(), sequence.end());
  key.push_back(static_cast<char>(packet.size() >> 8));
  key.push_back(static_cast<char>(packet.size() & 0xff));
  return key;
}

std::span<const unsigned char> destination_of(std::span<const unsigned char> packet, const IpLayout& layout) {
  return layout.version == 4 ? packet.subspan(16, 4) : packet.subspan(24, 16);
}

}  // namespace

bool kernel_release_at_least(std::string_view release, int major, int minor) {
  // Bounded: a version number longer than 4 digits is not one.
  const auto number = [&release](int& value) {
    std::size_t digits = 0;
    value = 0;
    while (digits < release.size() && digits < 4 && release[digits] >= '0' && release[digits] <= '9') {
      value = value * 10 + (release[digits] - '0');
      ++digits;
    }
    release.remove_prefix(digits);
    return digits > 0 && (release.empty() || release[0] < '0' || release[0] > '9');
  };
  int found_major = 0;
  int found_minor = 0;
  if (!number(found_major) || release.empty() || release[0] != '.') return false;
  release.remove_prefix(1);
  if (!number(found_minor)) return false;
  return found_major > major || (found_major == major && found_minor >= minor);
}

StatusOr<std::unique_ptr<PacketSocketLinkSender>> PacketSocketLinkSender::open(std::uint32_t mark) {
  const int fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return unavailable(std::string("cannot open a packet socket: ") + std::strerror(errno));
  std::unique_ptr<PacketSocketLinkSender> sender(new PacketSocketLinkSender(fd));
  const int one = 1;
  if (setsockopt(fd, SOL_PACKET, PACKET_VNET_HDR, &one, sizeof(one)) < 0) {
    return unavailable(std::string("cannot enable PACKET_VNET_HDR on the packet socket: ") + std::strerror(errno));
  }
  if (setsockopt(fd, SOL_SOCKET, SO_MARK, &mark, sizeof(mark)) < 0) {
    return unavailable(std::string("cannot set SO_MARK on the packet socket: ") + std::strerror(errno));
  }
  enlarge_send_buffer(fd);
  return sender;
}

bool PacketSocketLinkSender::send(const VnetHeader& header, const LinkHop& hop, int ip_version,
                                  std::uint32_t priority, std::span<const unsigned char> packet) {
  if (priority != priority_) {
    if (setsockopt(fd_.get(), SOL_SOCKET, SO_PRIORITY, &priority, sizeof(priority)) < 0) return false;
    priority_ = priority;
  }
  const std::uint16_t ethertype = htons(ip_version == 4 ? ETH_P_IP : ETH_P_IPV6);
  ethhdr link{};
  std::memcpy(link.h_dest, hop.next_hop_mac.data(), sizeof(link.h_dest));
  std::memcpy(link.h_source, hop.interface_mac.data(), sizeof(link.h_source));
  link.h_proto = ethertype;
  sockaddr_ll to{};
  to.sll_family = AF_PACKET;
  to.sll_protocol = ethertype;
  to.sll_ifindex = hop.interface_index;
  iovec parts[3] = {{const_cast<VnetHeader*>(&header), sizeof(header)},
                    {&link, sizeof(link)},
                    {const_cast<unsigned char*>(packet.data()), packet.size()}};
  msghdr message{};
  message.msg_name = &to;
  message.msg_namelen = sizeof(to);
  message.msg_iov = parts;
  message.msg_iovlen = 3;
  return sendmsg(fd_.get(), &message, 0) == static_cast<ssize_t>(sizeof(header) + sizeof(link) + packet.size());
}

StatusOr<std::unique_ptr<GsoPacketSender>> GsoPacketSender::open(std::uint32_t mark,
                                                                  std::unique_ptr<PacketSender> fallback) {
  CHAOS_ASSIGN_OR_RETURN(auto hops, NetlinkHopResolver::open());
  CHAOS_ASSIGN_OR_RETURN(auto link, PacketSocketLinkSender::open(mark));
  return std::make_unique<GsoPacketSender>(std::move(fallback), std::move(hops), std::move(link));
}

GsoPacketSender::GsoPacketSender(std::unique_ptr<PacketSender> fallback, std::unique_ptr<HopResolver> hops,
                                 std::unique_ptr<LinkSender> link)
    : fallback_(std::move(fallback)), hops_(std::move(hops)), link_(std::move(link)) {}

std::optional<LinkHop> GsoPacketSender::hop_to(std::span<const unsigned char> packet, const IpLayout& layout,
                                               int out_interface) {
  const auto destination = destination_of(packet, layout);
  std::string key(destination.begin(), destination.end());
  const auto now = std::chrono::steady_clock::now();
  if (auto cached = cache_.find(key); cached != cache_.end() && cached->second.expires > now) {
    return cached->second.hop;
  }
  if (cache_.size() >= kMaxCachedHops) cache_.clear();
  auto hop = hops_->resolve(destination, out_interface);
  const std::chrono::steady_clock::duration lifetime = hop ? kHopLifetime : kNoHopLifetime;
  cache_[std::move(key)] = CachedHop{hop, now + lifetime};
  return hop;
}

std::optional<LinkHop> GsoPacketSender::known_hop(std::span<const unsigned char> packet,
                                                  const IpLayout& layout) const {
  const auto destination = destination_of(packet, layout);
  const auto cached = cache_.find(std::string(destination.begin(), destination.end()));
  if (cached == cache_.end()) return std::nullopt;
  return cached->second.hop;
}

bool GsoPacketSender::can_send(const QueuedPacket& packet) {
  if (!packet.gso) {
    // A partial checksum we cannot find (SCTP's CRC, a tunnel's inner
    // header, past IPv6 extension headers) is completed only by the kernel.
    if (packet.checksum_partial && !transport_checksum_is_partial(packet.payload)) return false;
    return fallback_->can_send(packet);
  }
  // The kernel's partial checksum is what the device completes; a
  // super-packet of anything but plain TCP stays with the kernel.
  if (!packet.checksum_partial || packet.payload.size() != packet.length) return false;
  // The packet socket skips NAT after us: a NATed (or untracked, or
  // unknown) connection's super-packet stays with the kernel.
  if (packet.conntrack_status ? (*packet.conntrack_status & (IPS_SRC_NAT | IPS_DST_NAT)) != 0 : !no_nat_) {
    return false;
  }
  const auto layout = parse_ip(packet.payload);
  if (!layout || layout->fragment || layout->protocol != IPPROTO_TCP) return false;
  const auto hop = hop_to(packet.payload, *layout, packet.out_interface);
  if (!hop || !tcp_gso_header(packet.payload, hop->mtu, kEthernetHeaderBytes)) return false;
  auto key = super_packet_of(packet.payload, *layout);  // ports and sequence are there: header checked
  const std::uint64_t generation = ++decisions_made_;
  decisions_.insert_or_assign(key, Decision{*hop, packet.priority, generation});
  decision_order_.emplace_back(std::move(key), generation);
  while (decision_order_.size() > kMaxDecisions) {
    const auto& [oldest, made] = decision_order_.front();
    if (const auto found = decisions_.find(oldest); found != decisions_.end() && found->second.generation == made) {
      decisions_.erase(found);
    }
    decision_order_.pop_front();
  }
  return true;
}

bool GsoPacketSender::send(std::span<const unsigned char> packet) {
  const auto layout = parse_ip(packet);
  if (!layout) return false;
  if (layout->protocol == IPPROTO_TCP && !layout->fragment) {
    // A super-packet goes whole to the link, by the hop can_send() chose.
    if (packet.size() >= layout->transport_offset + kTcpMinHeader) {
      if (const auto decided = decisions_.find(super_packet_of(packet, *layout)); decided != decisions_.end()) {
        const Decision decision = decided->second;
        decisions_.erase(decided);  // its turn in decision_order_ then erases nothing (another generation)
        const auto segmented = tcp_gso_header(packet, decision.hop.mtu, kEthernetHeaderBytes);
        if (!segmented) return false;
        return link_->send(*segmented, decision.hop, layout->version, decision.priority, packet);
      }
    }
    // No decision kept (evicted, or a twin sent first): the cached hop.
    const auto hop = known_hop(packet, *layout);
    if (hop && packet.size() > hop->mtu) {
      const auto segmented = tcp_gso_header(packet, hop->mtu, kEthernetHeaderBytes);
      if (!segmented) return false;  // its TCP header is cut short
      return link_->send(*segmented, *hop, layout->version, 0, packet);
    }
  }
  // Only a checksum left partial is completed: a packet queued with a
  // complete one (or none, UDP's zero) goes out as it came.
  if (!transport_checksum_is_partial(packet)) return fallback_->send(packet);
  scratch_.assign(packet.begin(), packet.end());
  (void)complete_transport_checksum(scratch_);
  return fallback_->send(scratch_);
}

}  // namespace chaos::agent::network
