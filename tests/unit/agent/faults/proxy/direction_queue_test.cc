#include "agent/faults/proxy/direction_queue.h"

#include <gtest/gtest.h>

namespace chaos::agent::proxy {
namespace {

using namespace std::chrono_literals;

const SteadyTime kStart{std::chrono::seconds(1000)};

TEST(DirectionQueue, ReleasesAChunkOnlyWhenDue) {
  DirectionQueue queue;
  queue.push("abc", kStart + 50ms, true);
  EXPECT_EQ(queue.release(kStart), kStart + 50ms);
  EXPECT_TRUE(queue.ready().empty());
  EXPECT_EQ(queue.queued_bytes(), 3u);
  EXPECT_EQ(queue.release(kStart + 50ms), std::nullopt);
  EXPECT_EQ(queue.ready(), "abc");
}

TEST(DirectionQueue, HeldOrderKeepsALaterDueChunkFromBeingOvertaken) {
  DirectionQueue queue;
  queue.push("first ", kStart + 80ms, true);
  queue.push("second", kStart + 10ms, true);
  queue.release(kStart + 20ms);
  EXPECT_TRUE(queue.ready().empty()) << "second waits for first";
  queue.release(kStart + 80ms);
  EXPECT_EQ(queue.ready(), "first second");
}

// The engine sleeps until the returned time: a past time for a chunk that
// only waits behind a delayed one would wake it at once, forever.
TEST(DirectionQueue, WakesAtTheDelayedChunkNotAtWhatWaitsBehindIt) {
  DirectionQueue queue;
  queue.push("delayed ", kStart + 800ms, false);
  queue.push("ordered", kStart, true);
  EXPECT_EQ(queue.release(kStart + 10ms), kStart + 800ms);
  EXPECT_TRUE(queue.ready().empty()) << "the ordered chunk waits behind the delayed one";
  EXPECT_EQ(queue.release(kStart + 800ms), std::nullopt);
  EXPECT_EQ(queue.ready(), "delayed ordered");
}

TEST(DirectionQueue, UnheldChunkOvertakesWhatIsStillDelayed) {
  DirectionQueue queue;
  queue.push("slow ", kStart + 80ms, true);
  queue.push("ack", kStart + 10ms, false);
  EXPECT_EQ(queue.release(kStart + 20ms), kStart + 80ms);
  EXPECT_EQ(queue.ready(), "ack");
}

TEST(DirectionQueue, ConsumeCountsDownUntilEmpty) {
  DirectionQueue queue;
  queue.push("hello", kStart, true);
  queue.release(kStart);
  queue.consume(2);
  EXPECT_EQ(queue.ready(), "llo");
  EXPECT_EQ(queue.queued_bytes(), 3u);
  queue.consume(3);
  EXPECT_TRUE(queue.empty());
  queue.push("x", kStart, true);
  queue.release(kStart);
  EXPECT_EQ(queue.ready(), "x");
}

TEST(DirectionQueue, OwnSegmentsAreReadyOneAtATime) {
  DirectionQueue queue;
  queue.push("head ", kStart, true);
  queue.push("ab", kStart, true, true);
  queue.push("cd", kStart, true, true);
  queue.push(" tail", kStart, true);
  EXPECT_EQ(queue.held_chunks(), 4u);
  queue.release(kStart);
  EXPECT_EQ(queue.held_chunks(), 0u);
  EXPECT_EQ(queue.ready(), "head ");
  queue.consume(5);
  EXPECT_EQ(queue.ready(), "ab");
  queue.consume(1);
  EXPECT_EQ(queue.ready(), "b") << "a partial write keeps the segment's end";
  queue.consume(1);
  EXPECT_EQ(queue.ready(), "cd");
  queue.consume(2);
  EXPECT_EQ(queue.ready(), " tail");
  EXPECT_EQ(queue.queued_bytes(), 5u);
}

TEST(DirectionQueue, OrderedChunksBehindAHeldOneWaitForIt) {
  DirectionQueue queue;
  queue.push("a", kStart + 30ms, true);
  queue.push("b", kStart + 10ms, true);
  queue.push("c", kStart + 20ms, true);
  EXPECT_EQ(queue.release(kStart), kStart + 30ms) << "nothing can go before the first";
  EXPECT_EQ(queue.release(kStart + 30ms), std::nullopt);
  EXPECT_EQ(queue.ready(), "abc");
}

}  // namespace
}  // namespace chaos::agent::proxy
