#include "agent/faults/proxy/protocols/nats_protocol.h"

#include <gtest/gtest.h>

#include "tests/unit/agent/faults/proxy/protocols/protocol_test_chunks.h"

namespace chaos::agent::proxy {
namespace {

using testing::byte_chunks;
using testing::random_chunks;
using testing::split_at;

// A client session as a NATS client library writes it.
const std::string kNatsClientSession =
    "CONNECT {\"verbose\":false,\"pedantic\":false,\"name\":\"orders\",\"lang\":\"go\",\"version\":\"1.31.0\","
    "\"protocol\":1,\"headers\":true}\r\n"
    "PING\r\n"
    "SUB _INBOX.Zk1 1\r\n"
    "SUB orders.* workers 2\r\n"
    "PUB orders.new _INBOX.Zk1.1 5\r\nhello\r\n"
    "HPUB orders.new 24 29\r\nNATS/1.0\r\nNats-Id: 1\r\n\r\nhello\r\n"
    "pub lower.case 0\r\n\r\n"
    "UNSUB 2 10\r\n"
    "PONG\r\n";

const std::string kNatsServerSession =
    "INFO {\"server_id\":\"NABC\",\"version\":\"2.10.7\",\"proto\":1,\"headers\":true,\"max_payload\":1048576}\r\n"
    "PONG\r\n"
    "+OK\r\n"
    "MSG orders.new 2 5\r\nhello\r\n"
    "MSG _INBOX.Zk1.1 1 $JS.ACK.orders.c.1.1.1.1.0 2\r\nok\r\n"
    "HMSG orders.new 2 _INBOX.r 24 29\r\nNATS/1.0\r\nNats-Id: 1\r\n\r\nhello\r\n"
    "PING\r\n"
    "-ERR 'Permissions Violation for Publish to \"x\"'\r\n";

NatsSplitter::Output split(const std::vector<std::string>& chunks, NatsLimits limits = {}) {
  NatsSplitter splitter(limits);
  NatsSplitter::Output out;
  for (const auto& chunk : chunks) splitter.feed(chunk, out);
  splitter.finish(out);
  return out;
}

std::vector<std::string> message_bytes(const NatsSplitter::Output& out) {
  std::vector<std::string> all;
  for (const auto& message : out.messages) all.push_back(message.bytes);
  return all;
}

TEST(NatsProtocolTest, ClientSessionSplitsIntoItsMessages) {
  const auto out = split({kNatsClientSession});
  EXPECT_TRUE(out.pass_through.empty()) << out.pass_through;
  ASSERT_EQ(out.messages.size(), 9u);
  EXPECT_EQ(out.messages[0].op, NatsOp::kConnect);
  EXPECT_EQ(out.messages[4].op, NatsOp::kPub);
  EXPECT_EQ(out.messages[4].subject, "orders.new");
  EXPECT_EQ(out.messages[4].reply, "_INBOX.Zk1.1");
  EXPECT_EQ(out.messages[4].bytes, "PUB orders.new _INBOX.Zk1.1 5\r\nhello\r\n");
  EXPECT_EQ(out.messages[5].op, NatsOp::kHpub);
  EXPECT_EQ(out.messages[5].reply, "");
  EXPECT_EQ(out.messages[6].op, NatsOp::kPub) << "operations are case-insensitive";
  EXPECT_EQ(out.messages[6].subject, "lower.case");
  EXPECT_EQ(out.messages[7].op, NatsOp::kUnsub);
}

TEST(NatsProtocolTest, ServerSessionSplitsIntoItsMessages) {
  const auto out = split({kNatsServerSession});
  EXPECT_TRUE(out.pass_through.empty()) << out.pass_through;
  ASSERT_EQ(out.messages.size(), 8u);
  EXPECT_EQ(out.messages[0].op, NatsOp::kInfo);
  EXPECT_FALSE(out.messages[0].tls_required);
  EXPECT_EQ(out.messages[4].subject, "_INBOX.Zk1.1");
  EXPECT_EQ(out.messages[4].reply, "$JS.ACK.orders.c.1.1.1.1.0");
  EXPECT_EQ(out.messages[5].op, NatsOp::kHmsg);
  EXPECT_EQ(out.messages[5].reply, "_INBOX.r");
  EXPECT_EQ(out.messages[7].op, NatsOp::kErr);
  EXPECT_EQ(out.messages[7].argument, "'Permissions Violation for Publish to \"x\"'");
}

TEST(NatsProtocolTest, EveryChunkingGivesTheSameMessages) {
  for (const auto& session : {kNatsClientSession, kNatsServerSession}) {
    const auto whole = message_bytes(split({session}));
    EXPECT_EQ(message_bytes(split(byte_chunks(session))), whole);
    for (std::size_t at = 0; at <= session.size(); ++at) {
      ASSERT_EQ(message_bytes(split(split_at(session, at))), whole) << "cut at " << at;
    }
    std::mt19937 random(7);
    for (int i = 0; i < 200; ++i) ASSERT_EQ(message_bytes(split(random_chunks(session, random))), whole);
  }
}

TEST(NatsProtocolTest, BareNewlineEndsAControlLine) {
  const auto out = split({"PING\nPUB a 1\r\nx\r\n"});
  ASSERT_EQ(out.messages.size(), 2u);
  EXPECT_EQ(out.messages[0].bytes, "PING\n");
  EXPECT_TRUE(out.pass_through.empty());
}

TEST(NatsProtocolTest, InfoWithTlsRequiredIsFlagged) {
  const auto out = split({"INFO {\"server_id\":\"N\",\"tls_required\":true}\r\n"});
  ASSERT_EQ(out.messages.size(), 1u);
  EXPECT_TRUE(out.messages[0].tls_required);
  EXPECT_FALSE(split({"INFO {\"tls_required\":false}\r\n"}).messages.at(0).tls_required);
}

TEST(NatsProtocolTest, GarbageSwitchesToPassThroughWithTheRestUnchanged) {
  const std::string stream = "PING\r\nPUB a 1\r\nx\r\nHELLO world\r\nPING\r\n";
  NatsSplitter splitter;
  NatsSplitter::Output out;
  splitter.feed(stream, out);
  ASSERT_EQ(out.messages.size(), 2u);
  EXPECT_EQ(out.pass_through, "HELLO world\r\nPING\r\n");
  EXPECT_TRUE(splitter.passing_through());
  EXPECT_NE(splitter.pass_through_reason().find("HELLO"), std::string::npos) << splitter.pass_through_reason();
  splitter.feed("more", out);
  EXPECT_EQ(out.pass_through, "HELLO world\r\nPING\r\nmore");
}

TEST(NatsProtocolTest, MalformedMessagesPassThrough) {
  for (const char* bad : {"PUB a\r\n", "PUB a b c d\r\nx\r\n", "PUB a -1\r\n", "PUB a 1x\r\n", "PUB a 1\r\nxy\r\n",
                          "HPUB a 5 3\r\nabc\r\n", "MSG a 1\r\n", "PING x\r\n", "INFO nojson\r\n", "\r\n",
                          "\x16\x03\x01\x02\x00\x01"}) {
    const auto out = split({bad});
    EXPECT_TRUE(out.messages.empty()) << bad;
    EXPECT_EQ(out.pass_through, bad);
  }
}

TEST(NatsProtocolTest, ControlLineBoundIsEnforced) {
  NatsLimits limits;
  limits.max_control_line = 64;
  const std::string fits = "SUB " + std::string(64 - 6, 'a') + " 1\r\n";
  EXPECT_EQ(split({fits}, limits).messages.size(), 1u);
  const std::string over = "SUB " + std::string(64 - 5, 'a') + " 1\r\n";
  EXPECT_EQ(split({over}, limits).pass_through, over);
  // Without a line end, it gives up as soon as the bound is passed.
  NatsSplitter splitter(limits);
  NatsSplitter::Output out;
  splitter.feed(std::string(66, 'P'), out);
  EXPECT_TRUE(splitter.passing_through());
  EXPECT_EQ(out.pass_through.size(), 66u);
}

TEST(NatsProtocolTest, PayloadBoundIsEnforcedAndBufferingStaysWithinIt) {
  NatsLimits limits;
  limits.max_payload = 100;
  EXPECT_EQ(split({"PUB a 100\r\n" + std::string(100, 'x') + "\r\n"}, limits).messages.size(), 1u);
  EXPECT_TRUE(split({"PUB a 101\r\n" + std::string(101, 'x') + "\r\n"}, limits).messages.empty());
  NatsSplitter splitter(limits);
  NatsSplitter::Output out;
  splitter.feed("PUB a 100\r\n" + std::string(99, 'x'), out);
  EXPECT_TRUE(out.messages.empty());
  EXPECT_LE(splitter.buffered(), limits.max_control_line + limits.max_payload + 4);
}

TEST(NatsProtocolTest, ALargeMessageLeavesNoLargeBufferBehind) {
  NatsLimits limits;
  limits.max_payload = 4 << 20;
  NatsSplitter splitter(limits);
  NatsSplitter::Output out;
  splitter.feed("PUB a 2097152\r\n" + std::string(2 << 20, 'x'), out);
  EXPECT_GE(splitter.buffer_capacity(), std::size_t{2} << 20);
  splitter.feed("\r\nPING\r\nPUB b 5\r\nhe", out);
  ASSERT_EQ(out.messages.size(), 2u);
  EXPECT_EQ(splitter.buffered(), 11u);
  EXPECT_LE(splitter.buffer_capacity(), kNatsKeptBufferCapacity);
}

TEST(NatsProtocolTest, EndInsideAMessageHandsTheBytesOut) {
  const auto out = split({"PING\r\nPUB a 5\r\nhel"});
  ASSERT_EQ(out.messages.size(), 1u);
  EXPECT_EQ(out.pass_through, "PUB a 5\r\nhel");
}

TEST(NatsProtocolTest, LimitsAreValidated) {
  EXPECT_TRUE(validate_nats_limits({}).ok());
  EXPECT_FALSE(validate_nats_limits({kNatsMaxControlLineCeiling + 1, kNatsDefaultMaxPayload}).ok());
  EXPECT_FALSE(validate_nats_limits({kNatsDefaultMaxControlLine, kNatsMaxPayloadCeiling + 1}).ok());
  EXPECT_FALSE(validate_nats_limits({kNatsDefaultMaxControlLine, 0}).ok());
}

}  // namespace
}  // namespace chaos::agent::proxy
