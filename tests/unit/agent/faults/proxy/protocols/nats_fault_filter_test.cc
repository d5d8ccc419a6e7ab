#include "agent/faults/proxy/protocols/nats_fault_filter.h"

#include <gtest/gtest.h>

#include "tests/unit/agent/faults/proxy/protocols/protocol_test_chunks.h"

namespace chaos::agent::proxy {
namespace {

using testing::forwarded_bytes;
using namespace std::chrono_literals;

constexpr auto kNatsC2S = Direction::kClientToServer;
constexpr auto kNatsS2C = Direction::kServerToClient;

NatsFaultConfig nats_config(NatsFaultAction action, std::vector<std::string> subjects, NatsFlow flow = NatsFlow::kBoth) {
  NatsFaultConfig config;
  for (const auto& subject : subjects) config.subjects.push_back(NatsSubjectPattern::compile(subject).value());
  config.action = action;
  config.flow = flow;
  config.delay = 2s;
  return config;
}

struct NatsHarness {
  explicit NatsHarness(NatsFaultConfig config)
      : counters(std::make_shared<NatsFaultCounters>()),
        filter(std::make_shared<const NatsFaultConfig>(std::move(config)), counters) {}
  std::shared_ptr<NatsFaultCounters> counters;
  NatsFaultFilter filter;
};

const SteadyTime kNatsNow{};

TEST(NatsFaultFilterTest, MatchedPublishIsDroppedAndEverythingElseForwardedByteForByte) {
  NatsHarness harness(nats_config(NatsFaultAction::kDrop, {"orders.*"}));
  const auto verdict = harness.filter.on_bytes(
      kNatsC2S, "CONNECT {}\r\nPUB orders.new 2\r\nhi\r\nPUB audit.x 2\r\nok\r\nPING\r\n", kNatsNow);
  EXPECT_EQ(forwarded_bytes(verdict), "CONNECT {}\r\nPUB audit.x 2\r\nok\r\nPING\r\n");
  EXPECT_TRUE(verdict.reply.empty());
  EXPECT_EQ(harness.counters->messages_seen, 2u);
  EXPECT_EQ(harness.counters->messages_matched, 1u);
  EXPECT_EQ(harness.counters->messages_dropped, 1u);
}

TEST(NatsFaultFilterTest, DroppedPublishCanBeAnsweredWithAnError) {
  auto config = nats_config(NatsFaultAction::kDrop, {"orders.>"});
  config.error = "Permissions Violation";
  NatsHarness harness(std::move(config));
  const auto verdict = harness.filter.on_bytes(kNatsC2S, "PUB orders.new 2\r\nhi\r\nPING\r\n", kNatsNow);
  EXPECT_EQ(forwarded_bytes(verdict), "PING\r\n");
  EXPECT_EQ(verdict.reply, "-ERR 'Permissions Violation'\r\n");
  EXPECT_EQ(harness.counters->errors_sent, 1u);
}

TEST(NatsFaultFilterTest, DroppedDeliveryIsReplacedByTheErrorTowardsTheClient) {
  auto config = nats_config(NatsFaultAction::kDrop, {"_INBOX.>"});
  config.error = "nope";
  NatsHarness harness(std::move(config));
  const auto verdict = harness.filter.on_bytes(kNatsS2C, "MSG _INBOX.a 1 2\r\nok\r\nPING\r\n", kNatsNow);
  EXPECT_EQ(forwarded_bytes(verdict), "-ERR 'nope'\r\nPING\r\n");
  EXPECT_TRUE(verdict.reply.empty()) << "nothing goes back to the server";
}

TEST(NatsFaultFilterTest, DelayedAckIsLateAloneAndTheRestIsNotHeldBack) {
  NatsHarness harness(nats_config(NatsFaultAction::kDelay, {"_INBOX.>"}, NatsFlow::kDeliver));
  const auto verdict =
      harness.filter.on_bytes(kNatsS2C, "PING\r\nMSG _INBOX.a 1 2\r\nok\r\nMSG orders.new 2 1\r\nx\r\n", kNatsNow);
  ASSERT_EQ(verdict.forward.size(), 3u);
  EXPECT_EQ(verdict.forward[0].bytes, "PING\r\n");
  EXPECT_EQ(verdict.forward[0].delay, 0s);
  EXPECT_EQ(verdict.forward[1].bytes, "MSG _INBOX.a 1 2\r\nok\r\n");
  EXPECT_EQ(verdict.forward[1].delay, 2s);
  EXPECT_FALSE(verdict.forward[1].hold_order);
  EXPECT_EQ(verdict.forward[2].bytes, "MSG orders.new 2 1\r\nx\r\n");
  EXPECT_EQ(verdict.forward[2].delay, 0s);
  EXPECT_FALSE(verdict.forward[2].hold_order) << "a later whole message may overtake the delayed one";
  EXPECT_EQ(harness.counters->messages_delayed, 1u);
}

TEST(NatsFaultFilterTest, FlowAndReplySubjectSelectWhatMatches) {
  auto config = nats_config(NatsFaultAction::kDrop, {"$JS.ACK.>"}, NatsFlow::kPublish);
  NatsHarness plain(config);
  EXPECT_EQ(forwarded_bytes(plain.filter.on_bytes(kNatsC2S, "PUB orders.new $JS.ACK.x.1 1\r\nx\r\n", kNatsNow)),
            "PUB orders.new $JS.ACK.x.1 1\r\nx\r\n");
  config.match_reply = true;
  NatsHarness with_reply(config);
  EXPECT_EQ(forwarded_bytes(with_reply.filter.on_bytes(kNatsC2S, "PUB orders.new $JS.ACK.x.1 1\r\nx\r\n", kNatsNow)), "");
  EXPECT_EQ(forwarded_bytes(with_reply.filter.on_bytes(kNatsS2C, "MSG $JS.ACK.a 1 1\r\nx\r\n", kNatsNow)),
            "MSG $JS.ACK.a 1 1\r\nx\r\n")
      << "a delivery is outside the publish flow";
}

TEST(NatsFaultFilterTest, TlsRequiredInfoPassesTheConnectionThrough) {
  NatsHarness harness(nats_config(NatsFaultAction::kDrop, {">"}));
  const std::string info = "INFO {\"tls_required\":true}\r\n";
  EXPECT_EQ(forwarded_bytes(harness.filter.on_bytes(kNatsS2C, info, kNatsNow)), info);
  EXPECT_TRUE(harness.filter.passing_through());
  EXPECT_EQ(harness.filter.pass_through_reason().rfind("TLS: cannot see inside", 0), 0u);
  const std::string hello = "\x16\x03\x01\x00\x05hello";
  EXPECT_EQ(forwarded_bytes(harness.filter.on_bytes(kNatsC2S, hello, kNatsNow)), hello);
  EXPECT_EQ(forwarded_bytes(harness.filter.on_bytes(kNatsC2S, "PUB a 1\r\nx\r\n", kNatsNow)), "PUB a 1\r\nx\r\n");
  EXPECT_EQ(harness.counters->tls_connections, 1u);
  EXPECT_EQ(harness.counters->last_pass_through_reason(), harness.filter.pass_through_reason());
}

TEST(NatsFaultFilterTest, ClientStartingWithTlsIsPassedThrough) {
  NatsHarness harness(nats_config(NatsFaultAction::kDrop, {">"}));
  const std::string hello = "\x16\x03\x01\x00\x05PUB a 1\r\nx\r\n";
  EXPECT_EQ(forwarded_bytes(harness.filter.on_bytes(kNatsC2S, hello, kNatsNow)), hello);
  EXPECT_EQ(harness.counters->tls_connections, 1u);
}

TEST(NatsFaultFilterTest, GarbageInOneDirectionPassesBothThroughWithoutLosingBufferedBytes) {
  NatsHarness harness(nats_config(NatsFaultAction::kDrop, {">"}));
  EXPECT_EQ(forwarded_bytes(harness.filter.on_bytes(kNatsS2C, "MSG a 1 ", kNatsNow)), "");
  EXPECT_EQ(forwarded_bytes(harness.filter.on_bytes(kNatsC2S, "BOGUS\r\n", kNatsNow)), "BOGUS\r\n");
  EXPECT_EQ(forwarded_bytes(harness.filter.on_bytes(kNatsS2C, "1\r\nx\r\n", kNatsNow)), "MSG a 1 1\r\nx\r\n");
}

TEST(NatsFaultFilterTest, PassesADirectionThroughOnlyOnceItHoldsNothing) {
  NatsHarness harness(nats_config(NatsFaultAction::kDrop, {">"}));
  EXPECT_FALSE(harness.filter.passes_through(kNatsC2S));  // parsing: the proxy must hand it every byte
  EXPECT_FALSE(harness.filter.passes_through(kNatsS2C));
  EXPECT_EQ(forwarded_bytes(harness.filter.on_bytes(kNatsS2C, "MSG a 1 ", kNatsNow)), "");
  EXPECT_EQ(forwarded_bytes(harness.filter.on_bytes(kNatsC2S, "BOGUS\r\n", kNatsNow)), "BOGUS\r\n");
  EXPECT_TRUE(harness.filter.passes_through(kNatsC2S));
  EXPECT_FALSE(harness.filter.passes_through(kNatsS2C)) << "a partial MSG is still held";
  EXPECT_EQ(forwarded_bytes(harness.filter.on_bytes(kNatsS2C, "1\r\nx\r\n", kNatsNow)), "MSG a 1 1\r\nx\r\n");
  EXPECT_TRUE(harness.filter.passes_through(kNatsS2C));
}

TEST(NatsFaultFilterTest, EndFlushesAnIncompleteMessage) {
  NatsHarness harness(nats_config(NatsFaultAction::kDrop, {">"}));
  EXPECT_EQ(forwarded_bytes(harness.filter.on_bytes(kNatsC2S, "PUB a 5\r\nhe", kNatsNow)), "");
  EXPECT_EQ(forwarded_bytes(harness.filter.on_end(kNatsC2S, kNatsNow)), "PUB a 5\r\nhe");
}

TEST(NatsFaultFilterTest, HeldBytesCountBothPartialMessagesAndStopHoldingHandsOneOut) {
  NatsHarness harness(nats_config(NatsFaultAction::kDelay, {">"}));
  EXPECT_EQ(forwarded_bytes(harness.filter.on_bytes(kNatsC2S, "PUB a 5\r\nhe", kNatsNow)), "");
  EXPECT_EQ(forwarded_bytes(harness.filter.on_bytes(kNatsS2C, "MSG a 1 3\r\nx", kNatsNow)), "");
  EXPECT_EQ(harness.filter.held_bytes(), 11u + 12u);
  // The agent's budget is used up: the client's partial PUB goes out as it
  // came, and nothing of the connection is held back from now on.
  EXPECT_EQ(forwarded_bytes(harness.filter.stop_holding(kNatsC2S, kNatsNow)), "PUB a 5\r\nhe");
  EXPECT_EQ(harness.filter.held_bytes(), 12u);
  EXPECT_EQ(harness.filter.pass_through_reason(), kProxyBudgetPassThroughReason);
  EXPECT_EQ(forwarded_bytes(harness.filter.on_bytes(kNatsC2S, "llo\r\n", kNatsNow)), "llo\r\n");
  EXPECT_EQ(forwarded_bytes(harness.filter.on_bytes(kNatsS2C, "yz\r\n", kNatsNow)), "MSG a 1 3\r\nxyz\r\n");
  EXPECT_EQ(harness.filter.held_bytes(), 0u);
  EXPECT_EQ(harness.counters->pass_through_connections.load(), 1u);
  EXPECT_EQ(harness.counters->messages_delayed.load(), 0u);
}

TEST(NatsFaultFilterTest, FactoryFaultsTheChosenShareOfConnections) {
  std::vector<double> draws = {10, 90, 49.9, 50};
  std::size_t next = 0;
  NatsFilterFactory factory(nats_config(NatsFaultAction::kDrop, {"a"}), 50, [&] { return draws[next++]; });
  std::vector<std::string> forwarded;
  for (int i = 0; i < 4; ++i) {
    auto filter = factory.make(ConnectionInfo{});
    forwarded.push_back(forwarded_bytes(filter->on_bytes(kNatsC2S, "PUB a 1\r\nx\r\n", kNatsNow)));
  }
  EXPECT_EQ(forwarded, (std::vector<std::string>{"", "PUB a 1\r\nx\r\n", "", "PUB a 1\r\nx\r\n"}));
  EXPECT_EQ(factory.counters().connections, 4u);
  EXPECT_EQ(factory.counters().faulted_connections, 2u);
}

TEST(NatsFaultFilterTest, SpecsAreValidatedNamingTheField) {
  v1::NatsDrop drop;
  auto missing = make_nats_filter_factory(drop, seeded_protocol_percent_source(1));
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("nats_drop.match.subjects"), std::string::npos);
  drop.mutable_match()->add_subjects("orders.>");
  drop.set_error("bad\r\nPUB x");
  auto bad_error = make_nats_filter_factory(drop, seeded_protocol_percent_source(1));
  ASSERT_FALSE(bad_error.ok());
  EXPECT_NE(bad_error.status().message().find("nats_drop.error"), std::string::npos);
  drop.set_error("denied");
  drop.mutable_limits()->set_max_payload(kNatsMaxPayloadCeiling + 1);
  auto bad_limit = make_nats_filter_factory(drop, seeded_protocol_percent_source(1));
  ASSERT_FALSE(bad_limit.ok());
  EXPECT_NE(bad_limit.status().message().find("nats_drop.limits.max_payload"), std::string::npos);
  drop.mutable_limits()->set_max_payload(0);
  EXPECT_TRUE(make_nats_filter_factory(drop, seeded_protocol_percent_source(1)).ok());

  v1::NatsDelay delay;
  delay.mutable_match()->add_subjects("_INBOX.>");
  auto no_delay = make_nats_filter_factory(delay, seeded_protocol_percent_source(1));
  ASSERT_FALSE(no_delay.ok());
  EXPECT_NE(no_delay.status().message().find("nats_delay.delay"), std::string::npos);
  delay.mutable_delay()->set_seconds(1);
  EXPECT_TRUE(make_nats_filter_factory(delay, seeded_protocol_percent_source(1)).ok());
}

}  // namespace
}  // namespace chaos::agent::proxy
