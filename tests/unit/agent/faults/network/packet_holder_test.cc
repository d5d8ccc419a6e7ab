#include "agent/faults/network/engine/packet_holder.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <linux/netfilter.h>

#include <utility>
#include <vector>

#include "tests/unit/agent/faults/network/engine_test_time.h"

namespace chaos::agent::network {
namespace {

using std::chrono::milliseconds;
using engine_test::kStart;

class FakeSender : public PacketSender {
 public:
  bool send(std::span<const unsigned char> packet) override {
    sent.emplace_back(packet.begin(), packet.end());
    return accept;
  }
  std::vector<std::vector<unsigned char>> sent;
  bool accept = true;
};

class PacketHolderTest : public ::testing::Test {
 protected:
  PacketHolder make(const ImpairmentSpec& spec, std::size_t max_copies = 100,
                    std::size_t max_bytes = kDefaultMaxHeldBytes) {
    return PacketHolder(spec, 1, [this](std::uint32_t id, int verdict) { verdicts.emplace_back(id, verdict); },
                        &sender, max_copies, max_bytes);
  }
  QueuedPacket packet(std::uint32_t id, std::uint8_t hook, bool local) {
    QueuedPacket queued;
    queued.packet_id = id;
    queued.payload = bytes;
    queued.length = bytes.size();
    queued.hook = hook;
    queued.from_local_socket = local;
    return queued;
  }
  ImpairmentSpec delay_of(int ms) {
    ImpairmentSpec spec;
    spec.delay = milliseconds(ms);
    return spec;
  }

  std::vector<unsigned char> bytes{0x45, 0, 0, 20, 1, 2, 3};
  std::vector<std::pair<std::uint32_t, int>> verdicts;
  FakeSender sender;
};

TEST_F(PacketHolderTest, LocalEgressPacketIsDroppedAtOnceAndResentAtReleaseTime) {
  auto holder = make(delay_of(10));
  holder.on_packet(packet(7, NF_INET_POST_ROUTING, true), kStart);
  // The kernel's copy goes at once, so the socket is no longer charged.
  EXPECT_EQ(verdicts, (std::vector<std::pair<std::uint32_t, int>>{{7, NF_DROP}}));
  EXPECT_TRUE(sender.sent.empty());
  holder.release_due(kStart + milliseconds(9));
  EXPECT_TRUE(sender.sent.empty());
  holder.release_due(kStart + milliseconds(10));
  ASSERT_EQ(sender.sent.size(), 1u);
  EXPECT_EQ(sender.sent[0], bytes);
  EXPECT_EQ(verdicts.size(), 1u);  // no verdict for a packet the kernel dropped
  const auto stats = holder.stats();
  EXPECT_EQ(stats.released, 1u);
  EXPECT_EQ(stats.reinjected, 1u);
  EXPECT_EQ(stats.delayed, 1u);
  EXPECT_EQ(stats.dropped, 0u);  // not an impairment drop
}

TEST_F(PacketHolderTest, DelayCountsFromWhenThePacketReachedTheQueueNotFromWhenItWasRead) {
  auto holder = make(delay_of(10));
  // Read 300 us after it was queued (the engine thread's wake-up).
  holder.on_packet(packet(7, NF_INET_POST_ROUTING, true), kStart, kStart + std::chrono::microseconds(300));
  EXPECT_EQ(holder.next_release(), kStart + milliseconds(10));
  holder.release_due(kStart + milliseconds(10));
  EXPECT_EQ(sender.sent.size(), 1u);
}

TEST_F(PacketHolderTest, IngressForwardedAndTruncatedPacketsWaitForTheirVerdict) {
  auto holder = make(delay_of(10));
  holder.on_packet(packet(1, NF_INET_PRE_ROUTING, false), kStart);   // ingress: re-sending would send it
  holder.on_packet(packet(2, NF_INET_POST_ROUTING, false), kStart);  // forwarded: no local socket
  auto truncated = packet(3, NF_INET_POST_ROUTING, true);
  truncated.length = 1500;  // only a prefix was copied
  holder.on_packet(truncated, kStart);
  EXPECT_TRUE(verdicts.empty());
  holder.release_due(kStart + milliseconds(10));
  EXPECT_EQ(verdicts, (std::vector<std::pair<std::uint32_t, int>>{{1, NF_ACCEPT}, {2, NF_ACCEPT}, {3, NF_ACCEPT}}));
  EXPECT_TRUE(sender.sent.empty());
}

TEST_F(PacketHolderTest, CopiesBeyondTheLimitTakeTheVerdictPath) {
  auto holder = make(delay_of(10), 1);
  holder.on_packet(packet(1, NF_INET_POST_ROUTING, true), kStart);
  holder.on_packet(packet(2, NF_INET_POST_ROUTING, true), kStart);
  EXPECT_EQ(verdicts, (std::vector<std::pair<std::uint32_t, int>>{{1, NF_DROP}}));
  holder.release_due(kStart + milliseconds(10));
  EXPECT_EQ(verdicts.back(), (std::pair<std::uint32_t, int>{2, NF_ACCEPT}));
  EXPECT_EQ(sender.sent.size(), 1u);
  // The copy is released, so the next packet may be held as a copy again.
  holder.on_packet(packet(3, NF_INET_POST_ROUTING, true), kStart + milliseconds(10));
  EXPECT_EQ(verdicts.back(), (std::pair<std::uint32_t, int>{3, NF_DROP}));
}

TEST_F(PacketHolderTest, CopiesBeyondTheByteCapWaitInTheKernelAndAreCounted) {
  bytes.assign(64 * 1024, 0x45);  // a GSO-sized loopback packet
  auto holder = make(delay_of(10), 100, 2 * bytes.size());
  for (std::uint32_t id = 1; id <= 3; ++id) holder.on_packet(packet(id, NF_INET_POST_ROUTING, true), kStart);
  // Two copies fit; the third packet stays with the kernel, not dropped.
  EXPECT_EQ(verdicts, (std::vector<std::pair<std::uint32_t, int>>{{1, NF_DROP}, {2, NF_DROP}}));
  EXPECT_EQ(holder.bytes_held(), 2 * bytes.size());
  EXPECT_EQ(holder.stats().over_cap, 1u);
  holder.release_due(kStart + milliseconds(10));
  EXPECT_EQ(sender.sent.size(), 2u);
  EXPECT_EQ(verdicts.back(), (std::pair<std::uint32_t, int>{3, NF_ACCEPT}));
  EXPECT_EQ(holder.bytes_held(), 0u);
  EXPECT_EQ(holder.stats().released, 3u);
  EXPECT_EQ(holder.stats().dropped, 0u);
  // Room again once released.
  holder.on_packet(packet(4, NF_INET_POST_ROUTING, true), kStart + milliseconds(10));
  EXPECT_EQ(verdicts.back(), (std::pair<std::uint32_t, int>{4, NF_DROP}));
  EXPECT_EQ(holder.stats().over_cap, 1u);
}

TEST_F(PacketHolderTest, DuplicateThatWouldExceedTheByteCapIsNotMade) {
  auto spec = delay_of(0);
  spec.duplicate_probability = 1.0;
  auto holder = make(spec, 100, bytes.size() + 1);
  holder.on_packet(packet(1, NF_INET_PRE_ROUTING, false), kStart);  // held with its duplicate copy
  holder.on_packet(packet(2, NF_INET_PRE_ROUTING, false), kStart);  // no room for a second copy
  EXPECT_EQ(verdicts, (std::vector<std::pair<std::uint32_t, int>>{{2, NF_ACCEPT}}));
  EXPECT_EQ(holder.stats().over_cap, 1u);
  holder.release_due(kStart);
  EXPECT_EQ(sender.sent.size(), 1u) << "one duplicate, for the packet that had room";
  EXPECT_EQ(holder.bytes_held(), 0u);
}

TEST_F(PacketHolderTest, ResentPacketWithItsDuplicateCountsBothCopies) {
  auto spec = delay_of(5);
  spec.duplicate_probability = 1.0;
  auto holder = make(spec, 100, 2 * bytes.size());
  holder.on_packet(packet(1, NF_INET_POST_ROUTING, true), kStart);
  EXPECT_EQ(holder.bytes_held(), 2 * bytes.size());
  holder.on_packet(packet(2, NF_INET_POST_ROUTING, true), kStart);  // over the cap: the kernel keeps it
  EXPECT_EQ(verdicts, (std::vector<std::pair<std::uint32_t, int>>{{1, NF_DROP}}));
  holder.release_all(kStart + milliseconds(5));
  EXPECT_EQ(holder.bytes_held(), 0u);
  EXPECT_EQ(sender.sent.size(), 2u);
}

TEST_F(PacketHolderTest, NoDelayMeansAnImmediateAccept) {
  auto holder = make(delay_of(0));
  holder.on_packet(packet(4, NF_INET_POST_ROUTING, true), kStart);
  EXPECT_EQ(verdicts, (std::vector<std::pair<std::uint32_t, int>>{{4, NF_ACCEPT}}));
  EXPECT_TRUE(holder.empty());
  EXPECT_TRUE(sender.sent.empty());
  EXPECT_EQ(holder.stats().delayed, 0u);
}

TEST_F(PacketHolderTest, ResentDuplicateGoesTwiceAndFailuresAreCounted) {
  auto spec = delay_of(5);
  spec.duplicate_probability = 1.0;
  auto holder = make(spec);
  holder.on_packet(packet(5, NF_INET_POST_ROUTING, true), kStart);
  sender.accept = false;
  holder.release_all(kStart + milliseconds(1));
  EXPECT_EQ(sender.sent.size(), 2u);
  const auto stats = holder.stats();
  EXPECT_EQ(stats.send_failures, 2u);
  EXPECT_EQ(stats.reinjected, 0u);
  EXPECT_EQ(stats.duplicated, 0u);
}

TEST_F(PacketHolderTest, ImpairmentDropIsAKernelDrop) {
  auto spec = delay_of(5);
  spec.loss_probability = 1.0;
  auto holder = make(spec);
  holder.on_packet(packet(6, NF_INET_POST_ROUTING, true), kStart);
  EXPECT_EQ(verdicts, (std::vector<std::pair<std::uint32_t, int>>{{6, NF_DROP}}));
  EXPECT_TRUE(holder.empty());
  EXPECT_EQ(holder.stats().dropped, 1u);
}

TEST_F(PacketHolderTest, StoppingAcceptsPacketsNotYetRead) {
  auto holder = make(delay_of(5));
  holder.accept_unheld(packet(8, NF_INET_POST_ROUTING, true));
  EXPECT_EQ(verdicts, (std::vector<std::pair<std::uint32_t, int>>{{8, NF_ACCEPT}}));
  EXPECT_EQ(holder.stats().received, 1u);
}

}  // namespace
}  // namespace chaos::agent::network
