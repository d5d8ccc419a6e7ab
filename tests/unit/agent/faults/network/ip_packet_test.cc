#include "agent/faults/network/engine/ip_packet.h"

#include <gtest/gtest.h>
#include <netinet/in.h>

#include <vector>

#include "tests/unit/agent/faults/network/ip_packets.h"

namespace chaos::agent::network {
namespace {

using testing_packets::make_packet;
using testing_packets::transport_checksum_ok;

TEST(IpPacketTest, CompletesAPartialTcpChecksumOfIpv4AndIpv6) {
  for (const int version : {4, 6}) {
    auto packet = make_packet(version, IPPROTO_TCP, 1000);
    EXPECT_FALSE(transport_checksum_ok(packet));  // as the kernel queues it: pseudo header only
    ASSERT_TRUE(complete_transport_checksum(packet));
    EXPECT_TRUE(transport_checksum_ok(packet)) << "IPv" << version;
  }
}

TEST(IpPacketTest, CompletesAnOddLengthUdpChecksum) {
  auto packet = make_packet(4, IPPROTO_UDP, 333);
  ASSERT_TRUE(complete_transport_checksum(packet));
  EXPECT_TRUE(transport_checksum_ok(packet));
}

TEST(IpPacketTest, RefusesPacketsWhoseLengthsDoNotAddUp) {
  auto packet = make_packet(4, IPPROTO_TCP, 100);
  EXPECT_FALSE(parse_ip(std::span(packet).first(packet.size() - 1)).has_value());
  packet[0] = 0x44;  // header length 16 bytes
  EXPECT_FALSE(parse_ip(packet).has_value());
  EXPECT_FALSE(parse_ip({}).has_value());
  auto fragment = make_packet(4, IPPROTO_UDP, 100);
  fragment[6] = 0x20;  // more fragments
  const auto before = fragment;
  EXPECT_FALSE(complete_transport_checksum(fragment));
  EXPECT_EQ(fragment, before);
}

TEST(IpPacketTest, GsoHeaderSegmentsATcpSuperPacketToThePathMtu) {
  const auto packet = make_packet(4, IPPROTO_TCP, 20'000);  // 20 + 32 header bytes
  const auto header = tcp_gso_header(packet, 1500, 14);
  ASSERT_TRUE(header.has_value());
  EXPECT_EQ(header->gso_type, kVnetGsoTcpV4);
  EXPECT_EQ(header->gso_size, 1500 - 20 - 32);
  EXPECT_EQ(header->flags, kVnetNeedsChecksum);
  EXPECT_EQ(header->csum_start, 14 + 20);
  EXPECT_EQ(header->csum_offset, 16);
  EXPECT_EQ(header->hdr_len, 14 + 20 + 32);

  const auto v6 = tcp_gso_header(make_packet(6, IPPROTO_TCP, 20'000), 9000, 14);
  ASSERT_TRUE(v6.has_value());
  EXPECT_EQ(v6->gso_type, kVnetGsoTcpV6);
  EXPECT_EQ(v6->gso_size, 9000 - 40 - 32);
}

TEST(IpPacketTest, NoGsoHeaderForWhatFitsTheMtuOrIsNotTcp) {
  EXPECT_FALSE(tcp_gso_header(make_packet(4, IPPROTO_TCP, 1448), 1500, 14).has_value());
  EXPECT_FALSE(tcp_gso_header(make_packet(4, IPPROTO_UDP, 20'000), 1500, 14).has_value());
  auto bad_offset = make_packet(4, IPPROTO_TCP, 20'000);
  bad_offset[20 + 12] = 0x30;  // TCP header of 12 bytes
  EXPECT_FALSE(tcp_gso_header(bad_offset, 1500, 14).has_value());
}

}  // namespace
}  // namespace chaos::agent::network
