#include "lab/probe/sequence_tracker.h"

#include <gtest/gtest.h>

namespace chaos::lab::probe {
namespace {

using std::chrono::seconds;

class SequenceTrackerTest : public ::testing::Test {
 protected:
  SteadyTime t0_{};
  SequenceTracker tracker_{seconds(10)};
};

TEST_F(SequenceTrackerTest, AckedAndDeliveredIsNeitherLostNorDuplicated) {
  tracker_.published(1, true, t0_);
  EXPECT_EQ(tracker_.received(1), Delivery::kFirst);
  EXPECT_EQ(tracker_.expire(t0_ + seconds(60)), 0u);
}

TEST_F(SequenceTrackerTest, AckedButNeverDeliveredIsLostOnlyAfterGrace) {
  tracker_.published(1, true, t0_);
  tracker_.published(2, true, t0_ + seconds(1));
  EXPECT_EQ(tracker_.received(2), Delivery::kFirst);
  EXPECT_EQ(tracker_.awaiting(), 1u);
  EXPECT_EQ(tracker_.expire(t0_ + seconds(9)), 0u);
  EXPECT_EQ(tracker_.expire(t0_ + seconds(10)), 1u);
  EXPECT_EQ(tracker_.expire(t0_ + seconds(100)), 0u) << "counted once";
}

TEST_F(SequenceTrackerTest, FailedPublishIsNotLostAndMayStillArrive) {
  tracker_.published(1, false, t0_);
  EXPECT_EQ(tracker_.expire(t0_ + seconds(30)), 0u);
  tracker_.published(2, false, t0_);
  EXPECT_EQ(tracker_.received(2), Delivery::kFirst);  // stored despite the timeout
}

TEST_F(SequenceTrackerTest, SecondDeliveryIsDuplicateBeforeAndAfterSettling) {
  tracker_.published(1, true, t0_);
  EXPECT_EQ(tracker_.received(1), Delivery::kFirst);
  EXPECT_EQ(tracker_.received(1), Delivery::kDuplicate);
  tracker_.expire(t0_ + seconds(20));
  EXPECT_EQ(tracker_.received(1), Delivery::kDuplicate);
}

TEST_F(SequenceTrackerTest, DeliveryBeforeAckReturnsIsCounted) {
  EXPECT_EQ(tracker_.received(1), Delivery::kFirst);
  tracker_.published(1, true, t0_);
  EXPECT_EQ(tracker_.awaiting(), 0u);
  EXPECT_EQ(tracker_.expire(t0_ + seconds(20)), 0u);
}

TEST_F(SequenceTrackerTest, LostMessageArrivingLateIsLateNotDuplicate) {
  tracker_.published(1, true, t0_);
  EXPECT_EQ(tracker_.expire(t0_ + seconds(11)), 1u);
  EXPECT_EQ(tracker_.received(1), Delivery::kLate);
  EXPECT_EQ(tracker_.received(1), Delivery::kDuplicate);
}

TEST_F(SequenceTrackerTest, WindowStaysBoundedUnderSteadyTraffic) {
  for (std::uint64_t sequence = 1; sequence <= 100000; ++sequence) {
    const SteadyTime now = t0_ + std::chrono::milliseconds(sequence * 20);
    tracker_.published(sequence, true, now);
    EXPECT_EQ(tracker_.received(sequence), Delivery::kFirst);
    tracker_.expire(now);
  }
  EXPECT_EQ(tracker_.awaiting(), 0u);
  // Far-future sequence numbers from a hostile payload are just "first" once.
  EXPECT_EQ(tracker_.received(UINT64_MAX), Delivery::kFirst);
  EXPECT_EQ(tracker_.received(UINT64_MAX), Delivery::kDuplicate);
}

}  // namespace
}  // namespace chaos::lab::probe
