#include "agent/faults/network/engine/ip_packet.h"

#include <netinet/in.h>

namespace chaos::agent::network {

namespace {

constexpr std::size_t kIpv4MinHeader = 20;
constexpr std::size_t kIpv6Header = 40;
constexpr std::size_t kUdpHeader = 8;
constexpr std::size_t kTcpChecksumOffset = 16;
constexpr std::size_t kUdpChecksumOffset = 6;
constexpr unsigned char kTcpFlagCwr = 0x80;

std::uint16_t read16(std::span<const unsigned char> bytes, std::size_t at) {
  return static_cast<std::uint16_t>((bytes[at] << 8) | bytes[at + 1]);
}

// One's-complement sum of big-endian 16-bit words, not yet folded.
std::uint64_t add_words(std::span<const unsigned char> bytes, std::uint64_t sum) {
  std::size_t i = 0;
  for (; i + 1 < bytes.size(); i += 2) sum += read16(bytes, i);
  if (i < bytes.size()) sum += static_cast<std::uint64_t>(bytes[i]) << 8;
  return sum;
}

std::uint16_t fold(std::uint64_t sum) {
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<std::uint16_t>(sum);
}

std::size_t checksum_offset(std::uint8_t protocol) {
  return protocol == IPPROTO_TCP ? kTcpChecksumOffset : kUdpChecksumOffset;
}

}  // namespace

std::optional<IpLayout> parse_ip(std::span<const unsigned char> packet) {
  if (packet.empty()) return std::nullopt;
  IpLayout layout;
  layout.version = packet[0] >> 4;
  if (layout.version == 4) {
    if (packet.size() < kIpv4MinHeader) return std::nullopt;
    const std::size_t header = static_cast<std::size_t>(packet[0] & 0x0f) * 4;
    if (header < kIpv4MinHeader || header > packet.size() || read16(packet, 2) != packet.size()) return std::nullopt;
    layout.protocol = packet[9];
    layout.transport_offset = header;
    layout.fragment = (read16(packet, 6) & 0x3fff) != 0;  // MF or an offset
    return layout;
  }
  if (layout.version == 6) {
    if (packet.size() < kIpv6Header || read16(packet, 4) + kIpv6Header != packet.size()) return std::nullopt;
    layout.protocol = packet[6];
    layout.transport_offset = kIpv6Header;
    return layout;
  }
  return std::nullopt;
}

namespace {

// The layout of a plain TCP or UDP packet (not a fragment; over IPv6, no
// extension header) long enough for its transport header.
std::optional<IpLayout> plain_transport(std::span<const unsigned char> packet) {
  const auto layout = parse_ip(packet);
  if (!layout || layout->fragment) return std::nullopt;
  const std::size_t minimum = layout->protocol == IPPROTO_TCP   ? kTcpMinHeader
                              : layout->protocol == IPPROTO_UDP ? kUdpHeader
                                                                : 0;
  if (minimum == 0 || packet.size() - layout->transport_offset < minimum) return std::nullopt;
  return layout;
}

// Pseudo header: addresses, protocol, transport length. Not yet folded.
std::uint64_t pseudo_header_sum(std::span<const unsigned char> packet, const IpLayout& layout) {
  std::uint64_t sum = layout.version == 4 ? add_words(packet.subspan(12, 8), 0) : add_words(packet.subspan(8, 32), 0);
  return sum + layout.protocol + (packet.size() - layout.transport_offset);
}

}  // namespace

bool transport_checksum_is_partial(std::span<const unsigned char> packet) {
  const auto layout = plain_transport(packet);
  if (!layout) return false;
  const std::size_t field = layout->transport_offset + checksum_offset(layout->protocol);
  const std::uint16_t held = read16(packet, field);
  const std::uint16_t pseudo = fold(pseudo_header_sum(packet, *layout));
  // 0 and 0xffff are the same one's-complement number.
  return held == pseudo || (held == 0 && pseudo == 0xffff) || (held == 0xffff && pseudo == 0);
}

bool complete_transport_checksum(std::span<unsigned char> packet) {
  const auto layout = plain_transport(packet);
  if (!layout) return false;
  const std::size_t field = layout->transport_offset + checksum_offset(layout->protocol);
  std::uint64_t sum = pseudo_header_sum(packet, *layout);
  packet[field] = 0;
  packet[field + 1] = 0;
  sum = add_words(packet.subspan(layout->transport_offset), sum);
  std::uint16_t checksum = static_cast<std::uint16_t>(~fold(sum));
  // UDP sends a computed zero as 0xffff (zero means "no checksum").
  if (checksum == 0 && layout->protocol == IPPROTO_UDP) checksum = 0xffff;
  packet[field] = static_cast<unsigned char>(checksum >> 8);
  packet[field + 1] = static_cast<unsigned char>(checksum & 0xff);
  return true;
}

std::optional<VnetHeader> tcp_gso_header(std::span<const unsigned char> packet, unsigned mtu,
                                              unsigned link_header_bytes) {
  const auto layout = parse_ip(packet);
  if (!layout || layout->fragment || layout->protocol != IPPROTO_TCP || packet.size() <= mtu) return std::nullopt;
  const std::size_t tcp = layout->transport_offset;
  if (packet.size() < tcp + kTcpMinHeader) return std::nullopt;
  const std::size_t tcp_header = static_cast<std::size_t>(packet[tcp + 12] >> 4) * 4;
  const std::size_t headers = tcp + tcp_header;
  if (tcp_header < kTcpMinHeader || headers >= packet.size() || headers >= mtu) return std::nullopt;
  VnetHeader header;
  header.flags = kVnetNeedsChecksum;
  header.gso_type = layout->version == 4 ? kVnetGsoTcpV4 : kVnetGsoTcpV6;
  // CWR belongs to the first segment only; the kernel clears it on the rest.
  if (packet[tcp + 13] & kTcpFlagCwr) header.gso_type |= kVnetGsoEcn;
  header.hdr_len = static_cast<std::uint16_t>(link_header_bytes + headers);
  header.gso_size = static_cast<std::uint16_t>(mtu - headers);
  header.csum_start = static_cast<std::uint16_t>(link_header_bytes + tcp);
  header.csum_offset = kTcpChecksumOffset;
  return header;
}

}  // namespace chaos::agent::network
