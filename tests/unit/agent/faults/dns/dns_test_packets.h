// Hand-assembled DNS messages for the dns fault tests, written byte by byte
// (not with the code under test) so a bug there cannot hide in both.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace chaos::agent::dns::testing {

using Packet = std::vector<std::uint8_t>;

inline void put_u16(Packet& packet, std::uint16_t value) {
  packet.push_back(static_cast<std::uint8_t>(value >> 8));
  packet.push_back(static_cast<std::uint8_t>(value & 0xFF));
}

// A standard query with RD set for `dotted` ("www.example.lab").
inline Packet make_query(std::uint16_t id, const std::string& dotted, std::uint16_t type = 1) {
  Packet packet;
  put_u16(packet, id);
  packet.push_back(0x01);  // RD
  packet.push_back(0x00);
  put_u16(packet, 1);
  put_u16(packet, 0);
  put_u16(packet, 0);
  put_u16(packet, 0);
  std::size_t start = 0;
  while (start < dotted.size()) {
    std::size_t dot = dotted.find('.', start);
    if (dot == std::string::npos) dot = dotted.size();
    packet.push_back(static_cast<std::uint8_t>(dot - start));
    packet.insert(packet.end(), dotted.begin() + static_cast<long>(start), dotted.begin() + static_cast<long>(dot));
    start = dot + 1;
  }
  packet.push_back(0);
  put_u16(packet, type);
  put_u16(packet, 1);  // IN
  return packet;
}

inline std::uint16_t get_u16(const Packet& packet, std::size_t offset) {
  return static_cast<std::uint16_t>((packet.at(offset) << 8) | packet.at(offset + 1));
}

inline int rcode_of(const Packet& packet) { return packet.at(3) & 0x0F; }
inline int answer_count(const Packet& packet) { return get_u16(packet, 6); }

// A minimal upstream answer: the query echoed with QR+RA and one A record.
inline Packet make_a_answer(const Packet& query, std::uint8_t last_octet) {
  Packet answer = query;
  answer[2] = static_cast<std::uint8_t>(answer[2] | 0x80);
  answer[3] = 0x80;
  answer[7] = 1;  // ANCOUNT
  put_u16(answer, 0xC00C);
  put_u16(answer, 1);
  put_u16(answer, 1);
  put_u16(answer, 0);
  put_u16(answer, 60);
  put_u16(answer, 4);
  for (std::uint8_t octet : {std::uint8_t{192}, std::uint8_t{0}, std::uint8_t{2}, last_octet}) {
    answer.push_back(octet);
  }
  return answer;
}

}  // namespace chaos::agent::dns::testing
