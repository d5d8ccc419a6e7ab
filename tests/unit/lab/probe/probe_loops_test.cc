// ProbeLoops against a fake stream with JetStream's DeliverNew semantics:
// a durable consumer delivers only messages stored after it was created.
#include "lab/probe/probe_loops.h"

#include <gtest/gtest.h>

#include <memory>

#include "lab/probe/payload.h"
#include "metrics/text_format.h"

namespace chaos::lab::probe {
namespace {

using std::chrono::seconds;

class FakeStream final : public BrokerClient {
 public:
  Status publish(std::string_view body, Duration, std::string_view message_id) override {
    message_ids.emplace_back(message_id);
    if (clock != nullptr) clock->advance(publish_takes);
    if (timeouts_left > 0) {
      --timeouts_left;
      if (store_timed_out) stored.emplace_back(body);  // stored, but the ack never came
      return deadline_exceeded("timeout");
    }
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
  // Stream sequences are 1-based positions in `stored`; redelivered ones
  // come first, as after an AckWait expiry.
  StatusOr<std::vector<Delivered>> fetch(int batch, Duration) override {
    if (!subscribed) return failed_precondition("fetch before subscribe");
    if (fetch_fails) return unavailable("consumer leader gone");
    std::vector<Delivered> deliveries;
    for (std::uint64_t sequence : redeliveries) deliveries.push_back(Delivered{stored[sequence - 1], true});
    redeliveries.clear();
    while (next_delivery < stored.size() && static_cast<int>(deliveries.size()) < batch) {
      ++next_delivery;
      deliveries.push_back(Delivered{stored[next_delivery - 1], false});
    }
    return deliveries;
  }
  void drop_subscription() override { subscribed = false; }
  std::string current_server() override { return server; }
  StatusOr<FailedOver> fail_over() override {
    ++failovers;
    subscribed = false;  // the old connection's subscription is useless
    return FailedOver{"nats://n" + std::to_string(failovers), "nats://n" + std::to_string(failovers + 1)};
  }

  // Messages stored before subscribe() created the consumer stay behind.
  std::vector<std::string> stored;
  std::uint64_t next_delivery = 0;
  std::vector<std::uint64_t> redeliveries;
  std::vector<std::string> message_ids;
  bool consumer_exists = false;
  bool subscribed = false;
  bool accepting = true;
  bool subscribe_fails = false;
  bool fetch_fails = false;
  int timeouts_left = 0;
  bool store_timed_out = false;
  int subscribe_calls = 0;
  int failovers = 0;
  std::string server = "nats://10.77.0.11:4222";  // what current_server() says
  FakeClock* clock = nullptr;  // advanced by publish_takes on every publish
  Duration publish_takes{};
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

// The client options (--publish-retries, --failover-after, --dedupe-window)
// on the same fake stream.
class ProbeOptionsTest : public ProbeLoopsTest {
 protected:
  ProbeLoops& loops_with(int retries, int failover_after, int dedupe_window) {
    ProbeSettings options = settings();
    options.publish_retries = retries;
    options.failover_after = failover_after;
    options.dedupe_window = dedupe_window;
    custom_ = std::make_unique<ProbeLoops>(stream_, metrics_, clock_, options);
    EXPECT_TRUE(custom_->subscribe().ok());
    return *custom_;
  }
  std::unique_ptr<ProbeLoops> custom_;
};

TEST_F(ProbeOptionsTest, ATimedOutPublishIsResentWithTheSameIdAndCountsAsOneAttempt) {
  ProbeLoops& loops = loops_with(2, 0, 0);
  stream_.timeouts_left = 2;
  loops.publish_one(1);
  EXPECT_EQ(metrics_.publish_attempts.value(), 1);
  EXPECT_EQ(metrics_.publish_success.value(), 1) << "the third try was acked";
  EXPECT_EQ(metrics_.publish_errors.value(), 0);
  EXPECT_EQ(metrics_.publish_retries.value(), 2);
  EXPECT_EQ(stream_.message_ids, (std::vector<std::string>{"run1-1", "run1-1", "run1-1"}));

  stream_.timeouts_left = 5;
  loops.publish_one(2);
  EXPECT_EQ(metrics_.publish_attempts.value(), 2);
  EXPECT_EQ(metrics_.publish_errors.value(), 1) << "three tries, none acked";
  EXPECT_EQ(metrics_.publish_retries.value(), 4);
  EXPECT_EQ(stream_.message_ids.back(), "run1-2");
}

// chaos_probe_server_info names the publisher's server: one series, which
// moves with it, and none while it is not connected.
TEST_F(ProbeLoopsTest, ServerInfoFollowsThePublishersServer) {
  ASSERT_TRUE(loops_.subscribe().ok());
  loops_.publish_one(1);
  std::string text = metrics::serialize_text(registry_);
  EXPECT_NE(text.find("chaos_probe_server_info{server=\"nats://10.77.0.11:4222\"} 1"), std::string::npos) << text;
  stream_.server = "nats://10.77.0.13:4222";
  loops_.publish_one(2);
  text = metrics::serialize_text(registry_);
  EXPECT_NE(text.find("chaos_probe_server_info{server=\"nats://10.77.0.13:4222\"} 1"), std::string::npos) << text;
  EXPECT_EQ(text.find("10.77.0.11"), std::string::npos) << "the old server's series stayed:\n" << text;
  stream_.server.clear();
  loops_.publish_one(3);
  text = metrics::serialize_text(registry_);
  EXPECT_EQ(text.find("chaos_probe_server_info{"), std::string::npos) << text;
}

TEST_F(ProbeOptionsTest, AckLatencyRunsFromTheFirstTry) {
  ProbeLoops& loops = loops_with(3, 0, 0);
  stream_.clock = &clock_;
  stream_.publish_takes = seconds(2);
  stream_.timeouts_left = 2;
  loops.publish_one(1);
  EXPECT_EQ(metrics_.publish_ack_latency.snapshot().sum, 6.0) << "two 2 s timeouts and a 2 s ack";
}

TEST_F(ProbeOptionsTest, WithoutRetriesAPublishIsOneTryWithoutMessageId) {
  stream_.timeouts_left = 1;
  ASSERT_TRUE(loops_.subscribe().ok());
  loops_.publish_one(1);
  EXPECT_EQ(stream_.message_ids, std::vector<std::string>{""});
  EXPECT_EQ(metrics_.publish_retries.value(), 0);
  EXPECT_EQ(metrics_.publish_errors.value(), 1);
}

// A server that lost its quorum refuses at once ("no responders") as often
// as it lets the ack time out: both are re-sent and both count.
TEST_F(ProbeOptionsTest, RefusedPublishesAreRetriedAndCountTowardsAFailoverLikeTimeouts) {
  ProbeLoops& loops = loops_with(3, 2, 0);
  stream_.accepting = false;
  loops.publish_one(1);
  EXPECT_EQ(metrics_.publish_attempts.value(), 1);
  EXPECT_EQ(metrics_.publish_retries.value(), 3);
  EXPECT_EQ(metrics_.publish_errors.value(), 1);
  EXPECT_EQ(stream_.failovers, 1) << "four refused tries: a failover after the second; the fourth came within the same ack timeout";
  EXPECT_EQ(stream_.message_ids, (std::vector<std::string>{"run1-1", "run1-1", "run1-1", "run1-1"}));
}

// Every server refuses while the cluster elects a leader: the client must
// not cycle through them on every refusal.
TEST_F(ProbeOptionsTest, FailsOverAtMostOncePerAckTimeout) {
  ProbeLoops& loops = loops_with(0, 1, 0);
  stream_.accepting = false;
  for (std::uint64_t sequence = 1; sequence <= 10; ++sequence) loops.publish_one(sequence);
  EXPECT_EQ(stream_.failovers, 1) << "ten refusals at the same instant";
  clock_.advance(settings().ack_timeout);
  loops.publish_one(11);
  EXPECT_EQ(stream_.failovers, 2) << "one ack timeout later";
}

TEST_F(ProbeOptionsTest, WithoutFailoverRefusalsNeverMoveTheClient) {
  ProbeLoops& loops = loops_with(0, 0, 0);
  stream_.accepting = false;
  for (std::uint64_t sequence = 1; sequence <= 5; ++sequence) loops.publish_one(sequence);
  EXPECT_EQ(stream_.failovers, 0);
  EXPECT_EQ(metrics_.publish_retries.value(), 0);
  EXPECT_EQ(metrics_.publish_errors.value(), 5);
}

TEST_F(ProbeOptionsTest, FailsOverAfterNTimeoutsInARowAndCountsAgainFromZero) {
  ProbeLoops& loops = loops_with(0, 3, 0);
  stream_.timeouts_left = 2;
  loops.publish_one(1);
  loops.publish_one(2);
  loops.publish_one(3);  // acked: the count starts again
  stream_.timeouts_left = 2;
  loops.publish_one(4);
  loops.publish_one(5);
  EXPECT_EQ(stream_.failovers, 0) << "never three in a row";
  stream_.timeouts_left = 1;
  loops.publish_one(6);
  EXPECT_EQ(stream_.failovers, 1);
  EXPECT_EQ(metrics_.failovers.value(), 1);
  stream_.timeouts_left = 2;
  loops.publish_one(7);
  loops.publish_one(8);
  EXPECT_EQ(stream_.failovers, 1) << "the count was reset by the failover";
  clock_.advance(settings().ack_timeout);
  stream_.timeouts_left = 1;
  loops.publish_one(9);
  EXPECT_EQ(stream_.failovers, 2);
}

TEST_F(ProbeOptionsTest, AfterAFailoverTheConsumerBindsAgainAndPublishingContinues) {
  ProbeLoops& loops = loops_with(1, 2, 0);
  loops.publish_one(1);
  ASSERT_TRUE(loops.consume_once());
  stream_.timeouts_left = 2;
  loops.publish_one(2);  // two timed-out tries: failover, not acked
  EXPECT_EQ(stream_.failovers, 1);
  EXPECT_FALSE(stream_.subscribed);
  const int calls = stream_.subscribe_calls;
  loops.publish_one(3);
  EXPECT_TRUE(loops.consume_once());
  EXPECT_EQ(stream_.subscribe_calls, calls + 1) << "bound at the next fetch, not after kResubscribeAfter";
  EXPECT_EQ(metrics_.messages_received.value(), 2);
  EXPECT_EQ(metrics_.publish_success.value(), 2);
  EXPECT_EQ(metrics_.consumer_recreations.value(), 0) << "the durable survived";
}

TEST_F(ProbeOptionsTest, WithoutADedupeWindowEveryDuplicateIsProcessedTwice) {
  ProbeLoops& loops = loops_with(0, 0, 0);
  loops.publish_one(1);
  ASSERT_TRUE(loops.consume_once());
  stream_.redeliveries = {1};
  ASSERT_TRUE(loops.consume_once());
  EXPECT_EQ(metrics_.messages_duplicated.value(), 1);
  EXPECT_EQ(metrics_.messages_processed_twice.value(), 1);
  EXPECT_EQ(metrics_.messages_redelivered.value(), 1) << "the broker marked it";
}

TEST_F(ProbeOptionsTest, TheDedupeWindowSkipsRedeliveriesItStillRemembers) {
  ProbeLoops& loops = loops_with(0, 0, 2);
  for (std::uint64_t sequence = 1; sequence <= 3; ++sequence) loops.publish_one(sequence);
  ASSERT_TRUE(loops.consume_once());
  stream_.redeliveries = {3};
  ASSERT_TRUE(loops.consume_once());
  EXPECT_EQ(metrics_.messages_duplicated.value(), 1);
  EXPECT_EQ(metrics_.messages_processed_twice.value(), 0);
  stream_.redeliveries = {1};  // forgotten: the window holds 2 and 3
  ASSERT_TRUE(loops.consume_once());
  EXPECT_EQ(metrics_.messages_duplicated.value(), 2);
  EXPECT_EQ(metrics_.messages_processed_twice.value(), 1);
}

// A re-sent publish stored twice (no Nats-Msg-Id deduplication in this
// fake) has two stream sequences; the window is keyed on the message's own
// id, so the second copy is not processed again.
TEST_F(ProbeOptionsTest, TheDedupeWindowAlsoSkipsASecondStoredCopy) {
  ProbeLoops& loops = loops_with(1, 0, 100);
  stream_.store_timed_out = true;
  stream_.timeouts_left = 1;
  loops.publish_one(1);
  ASSERT_EQ(stream_.stored.size(), 2u);
  ASSERT_TRUE(loops.consume_once());
  EXPECT_EQ(metrics_.messages_received.value(), 1);
  EXPECT_EQ(metrics_.messages_duplicated.value(), 1);
  EXPECT_EQ(metrics_.messages_processed_twice.value(), 0);
  EXPECT_EQ(metrics_.messages_redelivered.value(), 0) << "a second stored copy is no redelivery";
}

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
  ASSERT_TRUE(stream_.publish(encode_payload(Payload{"run0", 1, 0}), seconds(1), "").ok());
  ASSERT_TRUE(stream_.publish("not a probe message", seconds(1), "").ok());
  publish_and_consume(1, 1);
  settle();
  EXPECT_EQ(metrics_.messages_received.value(), 1);
  EXPECT_EQ(metrics_.messages_duplicated.value(), 0);
  EXPECT_EQ(metrics_.messages_lost.value(), 0);
}

}  // namespace
}  // namespace chaos::lab::probe
