// Reading and fixing whole IP packets the engine holds as bytes: where the
// transport header is, completing a TCP/UDP checksum the kernel left
// partial, and the virtio-net header that lets the kernel segment a TCP GSO
// super-packet we send through a packet socket (GsoPacketSender). Pure, so
// unit-tested; every input is bounds-checked (a malformed packet from the
// queue yields nullopt / false, never a read past its end).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

namespace chaos::agent::network {

// struct virtio_net_hdr of <linux/virtio_net.h> (which does not compile as
// C++: a member is named `class`). Fields in the host's byte order, as
// packet sockets read them (legacy virtio).
struct VnetHeader {
  std::uint8_t flags = 0;
  std::uint8_t gso_type = 0;
  std::uint16_t hdr_len = 0;
  std::uint16_t gso_size = 0;
  std::uint16_t csum_start = 0;
  std::uint16_t csum_offset = 0;
};
static_assert(sizeof(VnetHeader) == 10);
// A TCP header without options.
inline constexpr std::size_t kTcpMinHeader = 20;

inline constexpr std::uint8_t kVnetNeedsChecksum = 1;  // VIRTIO_NET_HDR_F_NEEDS_CSUM
inline constexpr std::uint8_t kVnetGsoTcpV4 = 1;       // VIRTIO_NET_HDR_GSO_TCPV4
inline constexpr std::uint8_t kVnetGsoTcpV6 = 4;       // VIRTIO_NET_HDR_GSO_TCPV6
inline constexpr std::uint8_t kVnetGsoEcn = 0x80;      // VIRTIO_NET_HDR_GSO_ECN

struct IpLayout {
  int version = 0;                  // 4 or 6
  std::uint8_t protocol = 0;        // IPPROTO_TCP, IPPROTO_UDP, ...
  std::size_t transport_offset = 0;
  // IPv4 fragment (MF or an offset): its checksum covers other packets.
  bool fragment = false;
};

// The layout of a packet whose IP length field matches its size exactly.
// IPv6 extension headers are not followed (protocol is the first next
// header).
std::optional<IpLayout> parse_ip(std::span<const unsigned char> packet);

// Whether `packet` is plain TCP or UDP (not a fragment; over IPv6, no
// extension header) whose checksum field holds only the pseudo header's
// sum: a partial checksum there, which complete_transport_checksum() can
// finish. With NFQA_CFG_F_GSO the kernel does not say where a partial
// checksum is: when this is false and the kernel said "partial", it lies
// elsewhere (SCTP's CRC, a tunnel's inner header) and only the kernel can
// complete it. A complete checksum equal to that sum (1 in 65536) passes
// too; completing it again rewrites the same value.
bool transport_checksum_is_partial(std::span<const unsigned char> packet);

// Writes the full TCP or UDP checksum (a partial one holds only the pseudo
// header's sum: with NFQA_CFG_F_GSO the kernel does not complete it before
// queueing). False, and the packet unchanged, for anything else.
bool complete_transport_checksum(std::span<unsigned char> packet);

// The header for a TCP super-packet (longer than `mtu`) whose checksum is
// partial, as the kernel queued it: segments of the path's MTU, checksum
// offload from the TCP header. `link_header_bytes` is what the packet
// socket puts in front (14 on Ethernet): the kernel counts csum_start from
// there. nullopt when the packet is not such a packet.
std::optional<VnetHeader> tcp_gso_header(std::span<const unsigned char> packet, unsigned mtu,
                                              unsigned link_header_bytes);

}  // namespace chaos::agent::network
