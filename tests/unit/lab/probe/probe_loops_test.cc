// ProbeLoops against a fake stream with JetStream's DeliverNew semantics:
// a durable consumer delivers only messages stored after it was created.
#include "lab/probe/probe_loops.h"

#include <gtest/gtest.h>

#include "lab/probe/payload.h"

namespace chaos::lab::probe {
namespace {

using std::chrono::seconds;

class FakeStream final : public StreamClient {
 public:
  Status publish(std::string_view body, Duration) override {
    if (!accepting) return unavailable("no responders");
    stored.emplace_back(body);
    return {};
  }
  StatusOr<Subscribed> subscribe() override {
    ++subscribe_calls;
    if (subscribe_fails) return unavailable("no JetStream leader");
    subscribed = true;
    if (consumer_exists) return Subscribed::kBound;
    consumer_exists = true;
    next_delivery = stored.size();  // DeliverNew
    return Subscribed::kCreated;
  }
  StatusOr<std::vector<std::string>> fetch(int batch, Duration) override {
    if (!subscribed) return failed_precondition("fetch before subscribe");
    if (fetch_fails) return unavailable("consumer leader gone");
    std::vector<std::string> bodies;
    while (next_delivery < stored.size() && static_cast<int>(bodies.size()) < batch) {
      bodies.push_back(stored[next_delivery++]);
    }
    return bodies;
  }
  void drop_subscription() override { subscribed = false; }

  // Messages stored before subscribe() created the consumer stay behind.
  std::vector<std::string> stored;
  std::size_t next_delivery = 0;
  bool consumer_exists = false;
  bool subscribed = false;
  bool accepting = true;
  bool subscribe_fails = false;
  bool fetch_fails = false;
  int subscribe_calls = 0;
};

class ProbeLoopsTest : public ::testing::Test {
 protected:
  ProbeSettings settings() {
    ProbeSettings settings;
    settings.run_id = "run1";
    settings.loss_grace = seconds(15);
    return settings;
  }
  // Publishes `count` messages, one per second, fetching after each.
  void publish_and_consume(std::uint64_t first, std::uint64_t count) {
    for (std::uint64_t sequence = first; sequence < first + count; ++sequence) {
      loops_.publish_one(sequence);
      loops_.consume_once();
      clock_.advance(seconds(1));
    }
  }
  // Lets every publish pass the loss grace.
  void settle() {
    clock_.advance(seconds(20));
    loops_.consume_once();
  }

  metrics::Registry registry_;
  ProbeMetrics metrics_{registry_};
  FakeClock clock_;
  FakeStream stream_;
  ProbeLoops loops_{stream_, metrics_, clock_, settings()};
};

// The bug behind "one message lost under 100 ms latency": the publisher
// started before the consumer existed, so with DeliverNew the first stored
// message was never delivered and, 30 s later, counted as lost, whatever
// fault was live at that moment.
TEST_F(ProbeLoopsTest, AMessageStoredBeforeTheConsumerExistsIsNeverDeliveredAndCountsAsLost) {
  loops_.publish_one(1);
  ASSERT_TRUE(loops_.subscribe().ok());
  publish_and_consume(2, 5);
  settle();
  EXPECT_EQ(metrics_.messages_lost.value(), 1);
  EXPECT_EQ(metrics_.messages_missing.value(), 1);
  EXPECT_EQ(metrics_.messages_received.value(), 5);
}

TEST_F(ProbeLoopsTest, PublishingStartsOnlyOnceSubscribed) {
  std::atomic<bool> stop{true};
  loops_.publish_until(stop);
  loops_.consume_until(stop);
  EXPECT_EQ(metrics_.publish_attempts.value(), 0);

  stream_.subscribe_fails = true;
  EXPECT_FALSE(loops_.subscribe().ok());
  EXPECT_EQ(metrics_.consume_errors.value(), 1);
  stream_.subscribe_fails = false;
  ASSERT_TRUE(loops_.subscribe().ok());
  publish_and_consume(1, 10);
  settle();
  EXPECT_EQ(metrics_.messages_received.value(), 10);
  EXPECT_EQ(metrics_.messages_lost.value(), 0);
  EXPECT_EQ(metrics_.messages_missing.value(), 0);
  EXPECT_EQ(metrics_.consumer_recreations.value(), 0) << "the first creation is not a re-creation";
}

TEST_F(ProbeLoopsTest, FailedPublishesAreNeitherLostNorAckedAndStallGrows) {
  ASSERT_TRUE(loops_.subscribe().ok());
  publish_and_consume(1, 2);
  stream_.accepting = false;
  publish_and_consume(3, 8);
  EXPECT_EQ(metrics_.publish_errors.value(), 8);
  EXPECT_EQ(metrics_.publish_stall.value(), 8) << "last ack at t=1s, last attempt at t=9s";
  stream_.accepting = true;
  publish_and_consume(11, 1);
  EXPECT_EQ(metrics_.publish_stall.value(), 0);
  settle();
  EXPECT_EQ(metrics_.messages_lost.value(), 0);
  EXPECT_EQ(metrics_.publish_success.value(), 3);
}

TEST_F(ProbeLoopsTest, ARebindKeepsThePositionAndAVanishedConsumerIsCountedAsRecreated) {
  ASSERT_TRUE(loops_.subscribe().ok());
  publish_and_consume(1, 2);
  stream_.fetch_fails = true;
  publish_and_consume(3, 2);  // stored while the consumer is unreachable
  stream_.fetch_fails = false;
  ASSERT_TRUE(loops_.subscribe().ok());  // the durable is still there: bound
  EXPECT_EQ(metrics_.consumer_recreations.value(), 0);
  publish_and_consume(5, 1);
  EXPECT_EQ(metrics_.messages_received.value(), 5);

  stream_.consumer_exists = false;  // deleted by hand
  loops_.publish_one(6);
  ASSERT_TRUE(loops_.subscribe().ok());
  EXPECT_EQ(metrics_.consumer_recreations.value(), 1);
  publish_and_consume(7, 1);
  settle();
  EXPECT_EQ(metrics_.messages_lost.value(), 1) << "sequence 6, stored between the two consumers";
}

TEST_F(ProbeLoopsTest, ALateDeliveryTakesAMessageOutOfMissing) {
  ASSERT_TRUE(loops_.subscribe().ok());
  stream_.fetch_fails = true;
  publish_and_consume(1, 1);
  settle();
  EXPECT_EQ(metrics_.messages_missing.value(), 1);
  stream_.fetch_fails = false;
  loops_.consume_once();
  EXPECT_EQ(metrics_.messages_late.value(), 1);
  EXPECT_EQ(metrics_.messages_missing.value(), 0);
  EXPECT_EQ(metrics_.messages_lost.value(), 1) << "a counter: it was overdue once";
}

TEST_F(ProbeLoopsTest, OtherRunsMessagesAreIgnored) {
  ASSERT_TRUE(loops_.subscribe().ok());
  ASSERT_TRUE(stream_.publish(encode_payload(Payload{"run0", 1, 0}), seconds(1)).ok());
  ASSERT_TRUE(stream_.publish("not a probe message", seconds(1)).ok());
  publish_and_consume(1, 1);
  settle();
  EXPECT_EQ(metrics_.messages_received.value(), 1);
  EXPECT_EQ(metrics_.messages_duplicated.value(), 0);
  EXPECT_EQ(metrics_.messages_lost.value(), 0);
}

}  // namespace
}  // namespace chaos::lab::probe
