#include "lab/probe/rabbitmq/amqp_frames.h"

#include <cstring>

namespace chaos::lab::probe {
namespace {

std::string amqp_frames_bytes(amqp_bytes_t bytes) {
  return bytes.len == 0 ? std::string() : std::string(static_cast<const char*>(bytes.bytes), bytes.len);
}

bool amqp_frames_key_is(const amqp_table_entry_t& entry, const char* key) {
  return entry.key.len == std::strlen(key) && std::memcmp(entry.key.bytes, key, entry.key.len) == 0;
}

std::optional<std::int64_t> amqp_frames_integer(const amqp_field_value_t& value) {
  switch (value.kind) {
    case AMQP_FIELD_KIND_I8: return value.value.i8;
    case AMQP_FIELD_KIND_U8: return value.value.u8;
    case AMQP_FIELD_KIND_I16: return value.value.i16;
    case AMQP_FIELD_KIND_U16: return value.value.u16;
    case AMQP_FIELD_KIND_I32: return value.value.i32;
    case AMQP_FIELD_KIND_U32: return value.value.u32;
    case AMQP_FIELD_KIND_I64: return value.value.i64;
    case AMQP_FIELD_KIND_U64: return static_cast<std::int64_t>(value.value.u64);
    default: return std::nullopt;
  }
}

}  // namespace

std::optional<std::int64_t> amqp_delivery_count(const amqp_basic_properties_t& properties) {
  if ((properties._flags & AMQP_BASIC_HEADERS_FLAG) == 0) return std::nullopt;
  for (int i = 0; i < properties.headers.num_entries; ++i) {
    const amqp_table_entry_t& entry = properties.headers.entries[i];
    if (amqp_frames_key_is(entry, "x-delivery-count")) return amqp_frames_integer(entry.value);
  }
  return std::nullopt;
}

bool amqp_is_redelivery(bool redelivered_flag, const amqp_basic_properties_t& properties) {
  return redelivered_flag || amqp_delivery_count(properties).value_or(0) > 0;
}

bool amqp_confirm_covers(std::uint64_t expected, std::uint64_t tag, bool multiple) {
  return multiple ? tag >= expected : tag == expected;
}

AmqpConfirmStep AmqpConfirmWait::on_ack(std::uint64_t tag, bool multiple) {
  if (!amqp_confirm_covers(expected_, tag, multiple)) {
    returned_ = false;  // the pending return was that older publish's
    return AmqpConfirmStep::kWait;
  }
  return returned_ ? AmqpConfirmStep::kReturned : AmqpConfirmStep::kAcked;
}

AmqpConfirmStep AmqpConfirmWait::on_nack(std::uint64_t tag, bool multiple) {
  if (!amqp_confirm_covers(expected_, tag, multiple)) {
    returned_ = false;
    return AmqpConfirmStep::kWait;
  }
  return AmqpConfirmStep::kNacked;
}

AmqpClientCapabilities amqp_client_capabilities() {
  AmqpClientCapabilities capabilities{};
  const char* names[] = {"consumer_cancel_notify", "connection.blocked", "publisher_confirms", "basic.nack"};
  for (int i = 0; i < 4; ++i) {
    capabilities.flags[i].key = amqp_cstring_bytes(names[i]);
    capabilities.flags[i].value.kind = AMQP_FIELD_KIND_BOOLEAN;
    capabilities.flags[i].value.value.boolean = 1;
  }
  capabilities.entry.key = amqp_cstring_bytes("capabilities");
  capabilities.entry.value.kind = AMQP_FIELD_KIND_TABLE;
  return capabilities;
}

bool amqp_has_capability(const amqp_table_t& properties, const char* name) {
  for (int i = 0; i < properties.num_entries; ++i) {
    const amqp_table_entry_t& entry = properties.entries[i];
    if (!amqp_frames_key_is(entry, "capabilities") || entry.value.kind != AMQP_FIELD_KIND_TABLE) continue;
    const amqp_table_t& table = entry.value.value.table;
    for (int j = 0; j < table.num_entries; ++j) {
      const amqp_table_entry_t& flag = table.entries[j];
      if (amqp_frames_key_is(flag, name)) return flag.value.kind == AMQP_FIELD_KIND_BOOLEAN && flag.value.value.boolean;
    }
  }
  return false;
}

AmqpQueueArguments amqp_quorum_queue_arguments() {
  AmqpQueueArguments arguments{};
  arguments.entries[0].key = amqp_cstring_bytes("x-queue-type");
  arguments.entries[0].value.kind = AMQP_FIELD_KIND_UTF8;
  arguments.entries[0].value.value.bytes = amqp_cstring_bytes("quorum");
  arguments.entries[1].key = amqp_cstring_bytes("x-quorum-initial-group-size");
  arguments.entries[1].value.kind = AMQP_FIELD_KIND_I64;
  arguments.entries[1].value.value.i64 = 3;
  return arguments;
}

std::string amqp_describe_close(const amqp_method_t& method) {
  if (method.id == AMQP_CONNECTION_CLOSE_METHOD && method.decoded != nullptr) {
    const auto* close = static_cast<const amqp_connection_close_t*>(method.decoded);
    return std::to_string(close->reply_code) + " " + amqp_frames_bytes(close->reply_text);
  }
  if (method.id == AMQP_CHANNEL_CLOSE_METHOD && method.decoded != nullptr) {
    const auto* close = static_cast<const amqp_channel_close_t*>(method.decoded);
    return std::to_string(close->reply_code) + " " + amqp_frames_bytes(close->reply_text);
  }
  return "unexpected method " + std::to_string(method.id);
}

std::string amqp_describe_reply(const amqp_rpc_reply_t& reply) {
  switch (reply.reply_type) {
    case AMQP_RESPONSE_NORMAL: return "";
    case AMQP_RESPONSE_NONE: return "the server closed the socket (EOF)";
    case AMQP_RESPONSE_LIBRARY_EXCEPTION: return amqp_error_string2(reply.library_error);
    case AMQP_RESPONSE_SERVER_EXCEPTION:
      if (reply.reply.id == AMQP_CONNECTION_CLOSE_METHOD) return "server closed the connection: " + amqp_describe_close(reply.reply);
      if (reply.reply.id == AMQP_CHANNEL_CLOSE_METHOD) return "server closed the channel: " + amqp_describe_close(reply.reply);
      return "server exception, method " + std::to_string(reply.reply.id);
  }
  return "unknown reply type";
}

}  // namespace chaos::lab::probe
