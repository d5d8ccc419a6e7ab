#include "agent/faults/dns/dns_message.h"

#include <gtest/gtest.h>

#include "tests/unit/agent/faults/dns/dns_test_packets.h"

namespace chaos::agent::dns {
namespace {

using testing::make_query;
using testing::Packet;

TEST(DnsMessageTest, ParsesStandardQuery) {
  auto query = parse_query(make_query(0xBEEF, "WWW.Example.lab", kTypeAAAA));
  ASSERT_TRUE(query.ok()) << query.status().to_string();
  EXPECT_EQ(query->id, 0xBEEF);
  EXPECT_TRUE(query->recursion_desired);
  EXPECT_EQ(query->question.type, kTypeAAAA);
  EXPECT_EQ(query->question.klass, kClassIn);
  EXPECT_EQ(query->question.dotted_lower_name(), "www.example.lab");
}

TEST(DnsMessageTest, RootNameIsADot) {
  auto query = parse_query(make_query(1, ""));
  ASSERT_TRUE(query.ok());
  EXPECT_EQ(query->question.dotted_lower_name(), ".");
}

TEST(DnsMessageTest, RejectsShortHeaderResponsesAndOtherOpcodes) {
  EXPECT_FALSE(parse_query(Packet(11, 0)).ok());
  Packet response = make_query(1, "a.lab");
  response[2] |= 0x80;
  EXPECT_FALSE(parse_query(response).ok());
  EXPECT_TRUE(is_response(response));
  Packet notify = make_query(1, "a.lab");
  notify[2] = static_cast<std::uint8_t>(4 << 3);
  auto status = parse_query(notify).status();
  EXPECT_NE(status.message().find("opcode 4"), std::string::npos) << status.message();
}

TEST(DnsMessageTest, RejectsQuestionCountsOtherThanOne) {
  for (std::uint16_t count : {0, 2, 0xFFFF}) {
    Packet packet = make_query(1, "a.lab");
    packet[4] = static_cast<std::uint8_t>(count >> 8);
    packet[5] = static_cast<std::uint8_t>(count & 0xFF);
    EXPECT_FALSE(parse_query(packet).ok()) << count;
  }
}

TEST(DnsMessageTest, RejectsTruncatedNamesAndTypes) {
  const Packet full = make_query(1, "www.example.lab");
  for (std::size_t size = kHeaderSize; size < full.size(); ++size) {
    Packet cut(full.begin(), full.begin() + static_cast<long>(size));
    EXPECT_FALSE(parse_query(cut).ok()) << "size " << size;
  }
  EXPECT_TRUE(parse_query(full).ok());
}

TEST(DnsMessageTest, RejectsLabelLongerThanThePacket) {
  Packet packet = make_query(1, "a.lab");
  packet[kHeaderSize] = 60;  // claims 60 octets, the packet has far fewer
  EXPECT_FALSE(parse_query(packet).ok());
}

TEST(DnsMessageTest, RejectsNamesOver255Octets) {
  std::string name;
  for (int i = 0; i < 5; ++i) name += std::string(60, 'a') + ".";
  name += "lab";  // 5*61 + 4 + 1 = 310 octets on the wire
  auto status = parse_query(make_query(1, name)).status();
  EXPECT_NE(status.message().find("255"), std::string::npos) << status.message();
}

TEST(DnsMessageTest, RejectsReservedLabelTypes) {
  Packet packet = make_query(1, "a.lab");
  packet[kHeaderSize] = 0x41;  // 01xxxxxx: extended label type
  EXPECT_FALSE(parse_query(packet).ok());
}

TEST(DnsMessageTest, FollowsBackwardCompressionPointer) {
  // The only octets before a query's question are the header's, so the
  // target label is planted in NSCOUNT/ARCOUNT: offset 8 holds "\x01x\0".
  Packet packet = make_query(1, "", kTypeA);
  packet[8] = 1;
  packet[9] = 'x';
  packet[10] = 0;
  packet.resize(kHeaderSize);
  packet.insert(packet.end(), {3, 'l', 'a', 'b', 0xC0, 8, 0, 1, 0, 1});
  auto query = parse_query(packet);
  ASSERT_TRUE(query.ok()) << query.status().to_string();
  EXPECT_EQ(query->question.dotted_lower_name(), "lab.x");
  EXPECT_EQ(query->question.type, kTypeA) << "type read right after the pointer";
}

TEST(DnsMessageTest, RefusesSelfAndForwardPointers) {
  for (std::uint8_t target : {std::uint8_t{12}, std::uint8_t{14}, std::uint8_t{200}}) {
    Packet packet = make_query(1, "", kTypeA);
    packet.resize(kHeaderSize);
    packet.insert(packet.end(), {0xC0, target, 0, 1, 0, 1, 3, 'l', 'a', 'b', 0});
    EXPECT_FALSE(parse_query(packet).ok()) << "target " << int{target};
  }
}

TEST(DnsMessageTest, RefusesTruncatedPointer) {
  Packet packet = make_query(1, "", kTypeA);
  packet.resize(kHeaderSize);
  packet.push_back(0xC0);
  EXPECT_FALSE(parse_query(packet).ok());
}

TEST(DnsMessageTest, BuildsRcodeReplyWithRecursionAvailable) {
  auto query = parse_query(make_query(0x1234, "Db.LAB", kTypeA));
  ASSERT_TRUE(query.ok());
  const Packet reply = build_rcode_reply(*query, Rcode::kNxDomain);
  EXPECT_EQ(testing::get_u16(reply, 0), 0x1234);
  EXPECT_EQ(reply[2] & 0x80, 0x80) << "QR";
  EXPECT_EQ(reply[2] & 0x01, 0x01) << "RD copied";
  EXPECT_EQ(reply[3] & 0x80, 0x80) << "RA set so glibc does not try the next server";
  EXPECT_EQ(testing::rcode_of(reply), 3);
  EXPECT_EQ(testing::get_u16(reply, 4), 1);
  EXPECT_EQ(testing::answer_count(reply), 0);
  // The question is echoed exactly, case preserved (0x20 randomisation).
  const Packet original = make_query(0x1234, "Db.LAB", kTypeA);
  EXPECT_EQ(Packet(reply.begin() + kHeaderSize, reply.end()),
            Packet(original.begin() + kHeaderSize, original.end()));
}

TEST(DnsMessageTest, BuildsAddressRepliesPerQuestionType) {
  SpoofedAddresses addresses;
  addresses.ipv4 = {{10, 1, 2, 3}, {10, 1, 2, 4}};
  addresses.ipv6 = {{0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}};
  auto a_query = parse_query(make_query(7, "api.lab", kTypeA));
  auto aaaa_query = parse_query(make_query(8, "api.lab", kTypeAAAA));
  auto mx_query = parse_query(make_query(9, "api.lab", 15));
  ASSERT_TRUE(a_query.ok() && aaaa_query.ok() && mx_query.ok());

  const Packet a = build_address_reply(*a_query, addresses, 1);
  EXPECT_EQ(testing::rcode_of(a), 0);
  EXPECT_EQ(testing::answer_count(a), 2);
  EXPECT_EQ(a[2] & 0x04, 0x04) << "AA";
  const std::size_t first_answer = make_query(7, "api.lab").size();
  EXPECT_EQ(testing::get_u16(a, first_answer), 0xC00C);
  EXPECT_EQ(testing::get_u16(a, first_answer + 2), kTypeA);
  EXPECT_EQ(testing::get_u16(a, first_answer + 8), 1) << "ttl low half";
  EXPECT_EQ(testing::get_u16(a, first_answer + 10), 4);
  EXPECT_EQ(Packet(a.begin() + static_cast<long>(first_answer) + 12, a.begin() + static_cast<long>(first_answer) + 16),
            (Packet{10, 1, 2, 3}));
  EXPECT_EQ(a.size(), first_answer + 2 * 16);

  const Packet aaaa = build_address_reply(*aaaa_query, addresses, 1);
  EXPECT_EQ(testing::answer_count(aaaa), 1);
  EXPECT_EQ(aaaa.size(), first_answer + 28);

  const Packet mx = build_address_reply(*mx_query, addresses, 1);
  EXPECT_EQ(testing::rcode_of(mx), 0);
  EXPECT_EQ(testing::answer_count(mx), 0) << "NODATA for other types";
}

TEST(DnsMessageTest, MessageIdNeedsAHeader) {
  EXPECT_FALSE(message_id(Packet(3, 0)).ok());
  auto id = message_id(make_query(0xA1B2, "x"));
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(*id, 0xA1B2);
}

}  // namespace
}  // namespace chaos::agent::dns
