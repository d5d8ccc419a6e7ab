#include "lab/probe/dedupe_window.h"

#include <gtest/gtest.h>

namespace chaos::lab::probe {
namespace {

TEST(DedupeWindowTest, ZeroCapacityRemembersNothing) {
  DedupeWindow window(0);
  EXPECT_FALSE(window.seen_before(7));
  EXPECT_FALSE(window.seen_before(7));
  EXPECT_EQ(window.size(), 0u);
}

TEST(DedupeWindowTest, RemembersTheLastNAndForgetsTheOldestFirst) {
  DedupeWindow window(3);
  for (std::uint64_t sequence = 1; sequence <= 3; ++sequence) EXPECT_FALSE(window.seen_before(sequence));
  EXPECT_TRUE(window.seen_before(1));
  EXPECT_FALSE(window.seen_before(4));  // evicts 1
  EXPECT_EQ(window.size(), 3u);
  EXPECT_TRUE(window.seen_before(2));
  EXPECT_TRUE(window.seen_before(4));
  EXPECT_FALSE(window.seen_before(1)) << "evicted at N";
  EXPECT_FALSE(window.seen_before(2)) << "evicted when 1 came back";
}

TEST(DedupeWindowTest, MemoryStaysBoundedUnderManySequences) {
  DedupeWindow window(1000);
  for (std::uint64_t sequence = 1; sequence <= 100000; ++sequence) ASSERT_FALSE(window.seen_before(sequence));
  EXPECT_EQ(window.size(), 1000u);
  EXPECT_TRUE(window.seen_before(99001));
  EXPECT_FALSE(window.seen_before(99000));
}

}  // namespace
}  // namespace chaos::lab::probe
