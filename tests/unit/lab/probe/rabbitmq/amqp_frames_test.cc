#include "lab/probe/rabbitmq/amqp_frames.h"

#include <gtest/gtest.h>

#include <cstring>

#include "lab/probe/rabbitmq/amqp_connection.h"

namespace chaos::lab::probe {
namespace {

// Properties with one header `key` = `value` of `kind` (i64 storage).
struct HeaderedProperties {
  amqp_table_entry_t entry{};
  amqp_basic_properties_t properties{};
  HeaderedProperties(const char* key, amqp_field_value_t value) {
    entry.key = amqp_cstring_bytes(key);
    entry.value = value;
    properties._flags = AMQP_BASIC_HEADERS_FLAG;
    properties.headers = amqp_table_t{1, &entry};
  }
};

amqp_field_value_t amqp_test_long(std::int64_t value) {
  amqp_field_value_t field{};
  field.kind = AMQP_FIELD_KIND_I64;
  field.value.i64 = value;
  return field;
}

TEST(AmqpFramesTest, DeliveryCountFromAnyIntegerKind) {
  HeaderedProperties long_count("x-delivery-count", amqp_test_long(2));
  EXPECT_EQ(amqp_delivery_count(long_count.properties), 2);
  amqp_field_value_t small{};
  small.kind = AMQP_FIELD_KIND_U8;
  small.value.u8 = 1;
  HeaderedProperties byte_count("x-delivery-count", small);
  EXPECT_EQ(amqp_delivery_count(byte_count.properties), 1);
  amqp_field_value_t text{};
  text.kind = AMQP_FIELD_KIND_UTF8;
  text.value.bytes = amqp_cstring_bytes("2");
  HeaderedProperties text_count("x-delivery-count", text);
  EXPECT_EQ(amqp_delivery_count(text_count.properties), std::nullopt) << "not an integer";
  HeaderedProperties other("x-death", amqp_test_long(3));
  EXPECT_EQ(amqp_delivery_count(other.properties), std::nullopt);
}

TEST(AmqpFramesTest, HeadersAreIgnoredUnlessTheirFlagIsSet) {
  HeaderedProperties count("x-delivery-count", amqp_test_long(4));
  count.properties._flags = 0;
  EXPECT_EQ(amqp_delivery_count(count.properties), std::nullopt);
}

TEST(AmqpFramesTest, RedeliveryIsTheFlagOrAPositiveDeliveryCount) {
  amqp_basic_properties_t none{};
  EXPECT_FALSE(amqp_is_redelivery(false, none));
  EXPECT_TRUE(amqp_is_redelivery(true, none));
  HeaderedProperties first("x-delivery-count", amqp_test_long(0));
  EXPECT_FALSE(amqp_is_redelivery(false, first.properties));
  HeaderedProperties again("x-delivery-count", amqp_test_long(1));
  EXPECT_TRUE(amqp_is_redelivery(false, again.properties));
}

TEST(AmqpFramesTest, ConfirmCoversItsTagOrAMultipleAckBeyondIt) {
  EXPECT_TRUE(amqp_confirm_covers(5, 5, false));
  EXPECT_FALSE(amqp_confirm_covers(5, 4, false)) << "a late confirm of an earlier publish";
  EXPECT_FALSE(amqp_confirm_covers(5, 6, false));
  EXPECT_TRUE(amqp_confirm_covers(5, 7, true));
  EXPECT_TRUE(amqp_confirm_covers(5, 5, true));
  EXPECT_FALSE(amqp_confirm_covers(5, 4, true));
}

TEST(AmqpFramesTest, AReturnBeforeALateAckBelongsToThatOlderPublish) {
  // Publish 4 timed out; waiting for 5 reads return(4), ack(4), ack(5).
  AmqpConfirmWait wait(5);
  wait.on_return();
  EXPECT_EQ(wait.on_ack(4, false), AmqpConfirmStep::kWait);
  EXPECT_EQ(wait.on_ack(5, false), AmqpConfirmStep::kAcked) << "the return was publish 4's";
  // The same with a late nack of publish 4.
  AmqpConfirmWait after_nack(5);
  after_nack.on_return();
  EXPECT_EQ(after_nack.on_nack(4, false), AmqpConfirmStep::kWait);
  EXPECT_EQ(after_nack.on_ack(5, false), AmqpConfirmStep::kAcked);
}

TEST(AmqpFramesTest, AReturnBeforeItsOwnAckIsUnroutable) {
  AmqpConfirmWait wait(5);
  EXPECT_EQ(wait.on_ack(3, true), AmqpConfirmStep::kWait);
  wait.on_return();
  EXPECT_EQ(wait.on_ack(5, false), AmqpConfirmStep::kReturned);
  AmqpConfirmWait multiple(5);
  multiple.on_return();
  EXPECT_EQ(multiple.on_ack(6, true), AmqpConfirmStep::kReturned);
  AmqpConfirmWait nacked(5);
  EXPECT_EQ(nacked.on_nack(4, false), AmqpConfirmStep::kWait);
  EXPECT_EQ(nacked.on_nack(5, false), AmqpConfirmStep::kNacked);
}

TEST(AmqpFramesTest, ClientCapabilitiesAskForCancelAndBlockedNotifications) {
  AmqpClientCapabilities capabilities = amqp_client_capabilities();
  const amqp_table_t properties = capabilities.properties();
  for (const char* name : {"consumer_cancel_notify", "connection.blocked", "publisher_confirms", "basic.nack"}) {
    EXPECT_TRUE(amqp_has_capability(properties, name)) << name;
  }
  EXPECT_FALSE(amqp_has_capability(properties, "exchange_exchange_bindings"));
  EXPECT_FALSE(amqp_has_capability(amqp_empty_table, "consumer_cancel_notify"));
}

TEST(AmqpFramesTest, QuorumQueueArgumentsMatchTheLab) {
  AmqpQueueArguments arguments = amqp_quorum_queue_arguments();
  const amqp_table_t table = arguments.table();
  ASSERT_EQ(table.num_entries, 2);
  EXPECT_EQ(std::string(static_cast<const char*>(table.entries[0].key.bytes), table.entries[0].key.len),
            "x-queue-type");
  ASSERT_EQ(table.entries[0].value.kind, AMQP_FIELD_KIND_UTF8);
  EXPECT_EQ(std::string(static_cast<const char*>(table.entries[0].value.value.bytes.bytes),
                        table.entries[0].value.value.bytes.len),
            "quorum");
  EXPECT_EQ(std::string(static_cast<const char*>(table.entries[1].key.bytes), table.entries[1].key.len),
            "x-quorum-initial-group-size");
  ASSERT_EQ(table.entries[1].value.kind, AMQP_FIELD_KIND_I64);
  EXPECT_EQ(table.entries[1].value.value.i64, 3);
}

TEST(AmqpFramesTest, RepliesNameTheServersCodeAndText) {
  amqp_channel_close_t channel_close{};
  channel_close.reply_code = 404;
  channel_close.reply_text = amqp_cstring_bytes("NOT_FOUND - no queue 'q'");
  amqp_rpc_reply_t reply{};
  reply.reply_type = AMQP_RESPONSE_SERVER_EXCEPTION;
  reply.reply.id = AMQP_CHANNEL_CLOSE_METHOD;
  reply.reply.decoded = &channel_close;
  EXPECT_EQ(amqp_describe_reply(reply), "server closed the channel: 404 NOT_FOUND - no queue 'q'");

  amqp_connection_close_t connection_close{};
  connection_close.reply_code = 320;
  connection_close.reply_text = amqp_cstring_bytes("CONNECTION_FORCED - broker forced connection closure");
  amqp_method_t method{AMQP_CONNECTION_CLOSE_METHOD, &connection_close};
  EXPECT_EQ(amqp_describe_close(method), "320 CONNECTION_FORCED - broker forced connection closure");
  reply.reply = method;
  EXPECT_EQ(amqp_describe_reply(reply),
            "server closed the connection: 320 CONNECTION_FORCED - broker forced connection closure");

  amqp_rpc_reply_t library{};
  library.reply_type = AMQP_RESPONSE_LIBRARY_EXCEPTION;
  library.library_error = AMQP_STATUS_HEARTBEAT_TIMEOUT;
  EXPECT_EQ(amqp_describe_reply(library), amqp_error_string2(AMQP_STATUS_HEARTBEAT_TIMEOUT));
  amqp_rpc_reply_t eof{};
  eof.reply_type = AMQP_RESPONSE_NONE;
  EXPECT_EQ(amqp_describe_reply(eof), "the server closed the socket (EOF)");
  amqp_rpc_reply_t normal{};
  normal.reply_type = AMQP_RESPONSE_NORMAL;
  EXPECT_EQ(amqp_describe_reply(normal), "");
}

TEST(AmqpFramesTest, TimevalsFromDurations) {
  const timeval tv = amqp_timeval(std::chrono::milliseconds(2500));
  EXPECT_EQ(tv.tv_sec, 2);
  EXPECT_EQ(tv.tv_usec, 500000);
  const timeval negative = amqp_timeval(std::chrono::milliseconds(-5));
  EXPECT_EQ(negative.tv_sec, 0);
  EXPECT_EQ(negative.tv_usec, 0);
}

}  // namespace
}  // namespace chaos::lab::probe
