#include "agent/faults/network/engine/release_queue.h"

#include <gtest/gtest.h>

#include "tests/unit/agent/faults/network/engine_test_time.h"

namespace chaos::agent::network {
namespace {

using std::chrono::milliseconds;
using engine_test::kStart;

std::vector<std::uint32_t> ids(const std::vector<HeldPacket>& packets) {
  std::vector<std::uint32_t> result;
  for (const auto& packet : packets) result.push_back(packet.packet_id);
  return result;
}

TEST(ReleaseQueueTest, ReleasesInTimeOrderOnlyWhenDue) {
  ReleaseQueue queue;
  queue.hold(kStart + milliseconds(30), 3);
  queue.hold(kStart + milliseconds(10), 1);
  queue.hold(kStart + milliseconds(20), 2);
  EXPECT_EQ(queue.next_release(), kStart + milliseconds(10));
  EXPECT_TRUE(queue.take_due(kStart + milliseconds(9)).empty());
  EXPECT_EQ(ids(queue.take_due(kStart + milliseconds(20))), (std::vector<std::uint32_t>{1, 2}));
  EXPECT_EQ(queue.size(), 1u);
  EXPECT_EQ(ids(queue.take_all()), (std::vector<std::uint32_t>{3}));
  EXPECT_TRUE(queue.empty());
}

TEST(ReleaseQueueTest, EqualReleaseTimesKeepArrivalOrder) {
  ReleaseQueue queue;
  for (std::uint32_t id = 100; id < 200; ++id) queue.hold(kStart, id);
  const auto released = ids(queue.take_due(kStart));
  ASSERT_EQ(released.size(), 100u);
  for (std::uint32_t i = 0; i < 100; ++i) EXPECT_EQ(released[i], 100 + i);
}

TEST(ReleaseQueueTest, DuplicatePayloadTravelsWithThePacket) {
  ReleaseQueue queue;
  queue.hold(kStart, 7, {1, 2, 3});
  const auto released = queue.take_due(kStart);
  ASSERT_EQ(released.size(), 1u);
  EXPECT_EQ(released[0].duplicate_payload, (std::vector<unsigned char>{1, 2, 3}));
}

}  // namespace
}  // namespace chaos::agent::network
