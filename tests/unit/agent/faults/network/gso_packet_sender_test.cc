#include "agent/faults/network/engine/gso_packet_sender.h"

#include <gtest/gtest.h>
#include <netinet/in.h>

#include <vector>

#include "tests/unit/agent/faults/network/ip_packets.h"

namespace chaos::agent::network {
namespace {

using testing_packets::make_packet;
using testing_packets::transport_checksum_ok;

struct Sent {
  std::vector<std::vector<unsigned char>> raw;
  std::vector<VnetHeader> link_headers;
  std::vector<int> link_interfaces;
  std::vector<std::uint32_t> link_priorities;
  int resolves = 0;
  bool neighbours_known = true;  // what the fake kernel answers now
};

class FakeRaw : public PacketSender {
 public:
  explicit FakeRaw(Sent& sent) : sent_(sent) {}
  bool send(std::span<const unsigned char> packet) override {
    sent_.raw.emplace_back(packet.begin(), packet.end());
    return true;
  }

 private:
  Sent& sent_;
};

class FakeHops : public HopResolver {
 public:
  FakeHops(Sent& sent, bool known) : sent_(sent), known_(known) {}
  std::optional<LinkHop> resolve(std::span<const unsigned char>, int out_interface) override {
    ++sent_.resolves;
    if (!known_ || !sent_.neighbours_known) return std::nullopt;
    return LinkHop{out_interface == 0 ? 3 : out_interface, 1500, {2, 0, 0, 0, 0, 1}};
  }

 private:
  Sent& sent_;
  bool known_;
};

class FakeLink : public LinkSender {
 public:
  explicit FakeLink(Sent& sent) : sent_(sent) {}
  bool send(const VnetHeader& header, const LinkHop& hop, int, std::uint32_t priority,
            std::span<const unsigned char>) override {
    sent_.link_headers.push_back(header);
    sent_.link_priorities.push_back(priority);
    sent_.link_interfaces.push_back(hop.interface_index);
    return true;
  }

 private:
  Sent& sent_;
};

GsoPacketSender make_sender(Sent& sent, bool hop_known) {
  return GsoPacketSender(std::make_unique<FakeRaw>(sent), std::make_unique<FakeHops>(sent, hop_known),
                         std::make_unique<FakeLink>(sent));
}

QueuedPacket queued(const std::vector<unsigned char>& bytes, bool gso) {
  QueuedPacket packet;
  packet.payload = bytes;
  packet.length = bytes.size();
  packet.gso = gso;
  packet.checksum_partial = true;
  packet.out_interface = 7;
  packet.conntrack_status = 0x0e;  // seen reply, assured, confirmed: no NAT
  return packet;
}

TEST(GsoPacketSenderTest, SuperPacketGoesWholeToTheLinkWithItsSegmentSize) {
  Sent sent;
  auto sender = make_sender(sent, true);
  const auto packet = make_packet(4, IPPROTO_TCP, 30'000);
  auto classified = queued(packet, true);
  classified.priority = 0xcafe0001;  // a bandwidth fault's CLASSIFY, which the link send skips
  ASSERT_TRUE(sender.can_send(classified));
  ASSERT_TRUE(sender.send(packet));
  ASSERT_EQ(sent.link_headers.size(), 1u);
  EXPECT_EQ(sent.link_priorities[0], 0xcafe0001u);
  EXPECT_EQ(sent.link_headers[0].gso_size, 1500 - 20 - 32);
  EXPECT_EQ(sent.link_interfaces[0], 7);  // the kernel's device, remembered from the queue
  EXPECT_TRUE(sent.raw.empty());
  EXPECT_EQ(sent.resolves, 1);  // once per destination, not per packet
}

TEST(GsoPacketSenderTest, HeldSuperPacketKeepsItsHopAndPriorityWhenTheHopCacheForgetsThem) {
  Sent sent;
  auto sender = make_sender(sent, true);
  const auto packet = make_packet(4, IPPROTO_TCP, 30'000);
  auto held = queued(packet, true);
  held.priority = 0x10002;
  ASSERT_TRUE(sender.can_send(held));
  // While it is held, its neighbour goes away and enough other
  // destinations are asked about to flush the hop cache.
  sent.neighbours_known = false;
  for (int i = 0; i < 1100; ++i) {
    auto other = make_packet(4, IPPROTO_TCP, 30'000);
    other[16] = 11;  // 11.0.x.y: none of them the held packet's
    other[17] = static_cast<unsigned char>(i >> 8);
    other[18] = static_cast<unsigned char>(i);
    EXPECT_FALSE(sender.can_send(queued(other, true)));
  }
  ASSERT_TRUE(sender.send(packet));
  ASSERT_EQ(sent.link_headers.size(), 1u);  // never the raw socket, where it would not fit
  EXPECT_EQ(sent.link_priorities[0], 0x10002u);
  EXPECT_EQ(sent.link_interfaces[0], 7);
  EXPECT_TRUE(sent.raw.empty());
}

TEST(GsoPacketSenderTest, SuperPacketWithoutAUsableNextHopStaysWithTheKernel) {
  Sent sent;
  auto sender = make_sender(sent, false);
  EXPECT_FALSE(sender.can_send(queued(make_packet(4, IPPROTO_TCP, 30'000), true)));
  auto complete_checksum = queued(make_packet(4, IPPROTO_TCP, 30'000), true);
  complete_checksum.checksum_partial = false;
  EXPECT_FALSE(make_sender(sent, true).can_send(complete_checksum));
  EXPECT_FALSE(make_sender(sent, true).can_send(queued(make_packet(4, IPPROTO_UDP, 30'000), true)));
}

TEST(GsoPacketSenderTest, SuperPacketOfANatedOrUntrackedConnectionStaysWithTheKernel) {
  Sent sent;
  auto sender = make_sender(sent, true);
  const auto packet = make_packet(4, IPPROTO_TCP, 30'000);
  for (const std::uint32_t nat : {0x10u /* IPS_SRC_NAT */, 0x20u /* IPS_DST_NAT */}) {
    auto nated = queued(packet, true);
    nated.conntrack_status = 0x0e | nat;
    EXPECT_FALSE(sender.can_send(nated));
  }
  auto untracked = queued(packet, true);
  untracked.conntrack_status.reset();
  EXPECT_FALSE(sender.can_send(untracked));
  // A kernel that cannot report the status, in a namespace without NAT.
  sender.assume_no_nat();
  EXPECT_TRUE(sender.can_send(untracked));
  auto nated = queued(packet, true);
  nated.conntrack_status = 0x1e;
  EXPECT_FALSE(sender.can_send(nated));
  // The raw socket's re-send goes through NAT: small packets still take it.
  const auto small_packet = make_packet(4, IPPROTO_TCP, 1000);
  auto small = queued(small_packet, false);
  small.conntrack_status = 0x1e;
  EXPECT_TRUE(sender.can_send(small));
}

TEST(GsoPacketSenderTest, OtherPacketsGoToTheRawSocketWithTheirChecksumCompleted) {
  Sent sent;
  auto sender = make_sender(sent, true);
  for (const auto& packet : {make_packet(4, IPPROTO_TCP, 1000), make_packet(6, IPPROTO_UDP, 99)}) {
    ASSERT_TRUE(sender.can_send(queued(packet, false)));
    ASSERT_TRUE(sender.send(packet));
  }
  ASSERT_EQ(sent.raw.size(), 2u);
  EXPECT_TRUE(transport_checksum_ok(sent.raw[0]));
  EXPECT_TRUE(transport_checksum_ok(sent.raw[1]));
  EXPECT_TRUE(sent.link_headers.empty());
  // Nor did they ask for a next hop: a SYN released before its own ARP
  // exchange would cache "no neighbour" for the super-packets after it.
  EXPECT_EQ(sent.resolves, 0);
}

TEST(GsoPacketSenderTest, PartialChecksumNotInAPlainTcpOrUdpHeaderStaysWithTheKernel) {
  Sent sent;
  auto sender = make_sender(sent, true);
  // SCTP's CRC offload, and a TCP header behind an IPv6 extension header.
  auto sctp = make_packet(4, IPPROTO_TCP, 100);
  sctp[9] = 132;
  EXPECT_FALSE(sender.can_send(queued(sctp, false)));
  auto extension = make_packet(6, IPPROTO_TCP, 100);
  extension[6] = 0;  // hop-by-hop options first
  EXPECT_FALSE(sender.can_send(queued(extension, false)));
  // A UDP header whose field is not the pseudo header's sum: the partial
  // checksum is further in (a VXLAN tunnel's inner TCP).
  auto tunnel = make_packet(4, IPPROTO_UDP, 100);
  tunnel[26] = 0;
  tunnel[27] = 0;
  EXPECT_FALSE(sender.can_send(queued(tunnel, false)));
  auto complete = queued(tunnel, false);
  complete.checksum_partial = false;  // the kernel completed it: sent as it is
  ASSERT_TRUE(sender.can_send(complete));
  ASSERT_TRUE(sender.send(tunnel));
  ASSERT_EQ(sent.raw.size(), 1u);
  EXPECT_EQ(sent.raw[0], tunnel);
}

TEST(GsoPacketSenderTest, PacketSocketPathNeedsAKernelThatReportsPriorities) {
  EXPECT_TRUE(kernel_release_at_least("6.1.0-18-amd64", 5, 18));
  EXPECT_TRUE(kernel_release_at_least("5.18.0", 5, 18));
  EXPECT_FALSE(kernel_release_at_least("5.10.0-28-amd64", 5, 18));
  EXPECT_FALSE(kernel_release_at_least("4.19.0", 5, 18));
  EXPECT_FALSE(kernel_release_at_least("", 5, 18));
  EXPECT_FALSE(kernel_release_at_least("6", 5, 18));
  EXPECT_FALSE(kernel_release_at_least("123456.1", 5, 18));
}

TEST(GsoPacketSenderTest, MalformedPacketIsRefusedNotSent) {
  Sent sent;
  auto sender = make_sender(sent, true);
  auto packet = make_packet(4, IPPROTO_TCP, 30'000);
  packet.resize(packet.size() - 10);  // shorter than its IP length says
  EXPECT_FALSE(sender.can_send(queued(packet, true)));
  EXPECT_FALSE(sender.send(packet));
  EXPECT_TRUE(sent.raw.empty());
  EXPECT_TRUE(sent.link_headers.empty());
}

}  // namespace
}  // namespace chaos::agent::network
