// IP packets for engine tests, built and checked independently of
// agent/faults/network/engine/ip_packet.cc.
#pragma once

#include <netinet/in.h>

#include <cstdint>
#include <vector>

namespace chaos::agent::network::testing_packets {

// IPv4 (20-byte header) or IPv6, then TCP (32-byte header, as with
// timestamps) or UDP, then `payload` bytes; 10.0.0.1 -> 10.0.0.2 (fd00::1 ->
// fd00::2). The transport checksum holds the pseudo header's sum only, as
// in a packet whose checksum the kernel left partial.
inline std::vector<unsigned char> make_packet(int version, std::uint8_t protocol, std::size_t payload) {
  const std::size_t ip = version == 4 ? 20 : 40;
  const std::size_t transport = protocol == IPPROTO_TCP ? 32 : 8;
  std::vector<unsigned char> packet(ip + transport + payload);
  for (std::size_t i = ip + transport; i < packet.size(); ++i) packet[i] = static_cast<unsigned char>(i * 7);
  const std::size_t total = packet.size();
  if (version == 4) {
    packet[0] = 0x45;
    packet[2] = static_cast<unsigned char>(total >> 8);
    packet[3] = static_cast<unsigned char>(total);
    packet[6] = 0x40;  // DF
    packet[8] = 64;
    packet[9] = protocol;
    const unsigned char addresses[] = {10, 0, 0, 1, 10, 0, 0, 2};
    for (int i = 0; i < 8; ++i) packet[12 + i] = addresses[i];
  } else {
    packet[0] = 0x60;
    packet[4] = static_cast<unsigned char>((total - 40) >> 8);
    packet[5] = static_cast<unsigned char>(total - 40);
    packet[6] = protocol;
    packet[7] = 64;
    packet[8] = 0xfd;
    packet[23] = 1;
    packet[24] = 0xfd;
    packet[39] = 2;
  }
  if (protocol == IPPROTO_TCP) {
    packet[ip + 12] = 0x80;  // 32-byte header
    packet[ip + 13] = 0x10;  // ACK
  } else {
    packet[ip + 4] = static_cast<unsigned char>((total - ip) >> 8);
    packet[ip + 5] = static_cast<unsigned char>(total - ip);
  }
  std::uint32_t pseudo = protocol + static_cast<std::uint32_t>(total - ip);
  const std::size_t from = version == 4 ? 12 : 8, to = version == 4 ? 20 : 40;
  for (std::size_t i = from; i < to; i += 2) pseudo += (packet[i] << 8) | packet[i + 1];
  while (pseudo >> 16) pseudo = (pseudo & 0xffff) + (pseudo >> 16);
  const std::size_t field = ip + (protocol == IPPROTO_TCP ? 16 : 6);
  packet[field] = static_cast<unsigned char>(pseudo >> 8);
  packet[field + 1] = static_cast<unsigned char>(pseudo);
  return packet;
}

// The receiver's check: pseudo header plus segment sums to 0xffff.
inline bool transport_checksum_ok(const std::vector<unsigned char>& packet) {
  const int version = packet[0] >> 4;
  const std::size_t ip = version == 4 ? 20 : 40;
  const std::uint8_t protocol = version == 4 ? packet[9] : packet[6];
  std::uint64_t sum = protocol + (packet.size() - ip);
  const std::size_t from = version == 4 ? 12 : 8, to = version == 4 ? 20 : 40;
  for (std::size_t i = from; i < to; i += 2) sum += (packet[i] << 8) | packet[i + 1];
  for (std::size_t i = ip; i < packet.size(); i += 2) {
    sum += (packet[i] << 8) | (i + 1 < packet.size() ? packet[i + 1] : 0);
  }
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return sum == 0xffff;
}

}  // namespace chaos::agent::network::testing_packets
