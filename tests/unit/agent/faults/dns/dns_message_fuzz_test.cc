// Randomised mutation test: thousands of mutated, truncated and random
// packets through everything that reads untrusted DNS input. It must never
// crash (this runs under ASan+UBSan in CI), and every query it accepts must
// produce replies whose question re-parses to the same question.
#include <gtest/gtest.h>

#include <random>

#include "agent/faults/dns/dns_message.h"
#include "agent/faults/dns/query_policy.h"
#include "tests/unit/agent/faults/dns/dns_test_packets.h"

namespace chaos::agent::dns {
namespace {

using testing::make_query;
using testing::Packet;

constexpr int kIterations = 20000;

Packet mutate(Packet packet, std::mt19937& random) {
  std::uniform_int_distribution<int> choice(0, 5);
  const int rounds = 1 + static_cast<int>(random() % 4);
  for (int round = 0; round < rounds; ++round) {
    const std::size_t size = packet.size();
    const std::size_t at = size == 0 ? 0 : random() % size;
    switch (choice(random)) {
      case 0:
        if (size) packet[at] = static_cast<std::uint8_t>(packet[at] ^ (1u << (random() % 8)));
        break;
      case 1:
        if (size) packet[at] = static_cast<std::uint8_t>(random());
        break;
      case 2: packet.resize(at); break;
      case 3: packet.insert(packet.begin() + static_cast<long>(at), static_cast<std::uint8_t>(random())); break;
      case 4:  // plant a compression pointer anywhere
        if (size >= 2) {
          packet[at] = static_cast<std::uint8_t>(0xC0 | (random() & 0x3F));
          if (at + 1 < size) packet[at + 1] = static_cast<std::uint8_t>(random());
        }
        break;
      default:  // counts: QDCOUNT etc. to extremes
        if (size >= kHeaderSize) packet[4 + random() % 8] = static_cast<std::uint8_t>(random());
        break;
    }
  }
  return packet;
}

DnsFaultSpec spoof_everything() {
  DnsFaultSpec spec;
  spec.patterns.push_back(NamePattern::compile("*").value());
  spec.mode = DnsFaultMode::kSpoof;
  spec.spoof.ipv4 = {{10, 0, 0, 1}};
  spec.spoof.ipv6 = {{0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2}};
  return spec;
}

void check_reply_echoes_question(const DnsQuery& query, Packet reply) {
  ASSERT_GE(reply.size(), kHeaderSize);
  reply[2] = static_cast<std::uint8_t>(reply[2] & 0x7F);  // read it back as a query
  auto again = parse_query(reply);
  ASSERT_TRUE(again.ok()) << again.status().to_string();
  EXPECT_EQ(again->id, query.id);
  EXPECT_EQ(again->question.labels, query.question.labels);
  EXPECT_EQ(again->question.type, query.question.type);
}

TEST(DnsMessageFuzzTest, MutatedPacketsNeverCrashAndAcceptedOnesRoundTrip) {
  std::mt19937 random(20261123);
  const std::vector<Packet> seeds = {make_query(1, "www.example.lab"), make_query(2, "a.b.c.d.e.f.g", 28),
                                     make_query(3, ""), make_query(4, std::string(63, 'z') + ".lab", 15)};
  QueryPolicy policy(spoof_everything(), 7);
  int accepted = 0;
  for (int i = 0; i < kIterations; ++i) {
    const Packet packet = mutate(seeds[static_cast<std::size_t>(i) % seeds.size()], random);
    (void)is_response(packet);
    (void)message_id(packet);
    (void)policy.plan(packet);
    auto query = parse_query(packet);
    if (!query.ok()) continue;
    ++accepted;
    check_reply_echoes_question(*query, build_rcode_reply(*query, Rcode::kServFail));
    check_reply_echoes_question(*query, build_address_reply(*query, spoof_everything().spoof, 1));
    if (::testing::Test::HasFailure()) FAIL() << "iteration " << i;
  }
  // The mutations must leave enough valid queries for the round trip to
  // mean something, and break enough to exercise the error paths.
  EXPECT_GT(accepted, kIterations / 20);
  EXPECT_LT(accepted, kIterations);
}

TEST(DnsMessageFuzzTest, RandomBytesNeverCrash) {
  std::mt19937 random(42);
  QueryPolicy policy(spoof_everything(), 7);
  for (int i = 0; i < kIterations; ++i) {
    Packet packet(random() % 600);
    for (auto& byte : packet) byte = static_cast<std::uint8_t>(random());
    if (packet.size() > 2) packet[2] &= 0x7F;  // mostly "queries"
    (void)policy.plan(packet);
    (void)parse_query(packet);
  }
}

TEST(DnsMessageFuzzTest, OversizedPacketIsHandled) {
  Packet packet = make_query(9, "big.lab");
  packet.resize(70000, 0xC0);  // trailing pointer garbage after the question
  auto query = parse_query(packet);
  ASSERT_TRUE(query.ok()) << "trailing octets (EDNS, garbage) do not matter";
  EXPECT_EQ(query->question.dotted_lower_name(), "big.lab");
}

}  // namespace
}  // namespace chaos::agent::dns
