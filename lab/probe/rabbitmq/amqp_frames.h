// Pure pieces of the RabbitMQ driver, apart from any socket: what a
// delivery's properties say about redelivery, whether a publisher confirm
// covers the publish waited for, the queue's declare arguments, and the text
// of a failed reply (the server's reply code and text, or the library's
// error).
#pragma once

#include <amqp.h>

#include <cstdint>
#include <optional>
#include <string>

namespace chaos::lab::probe {

// The x-delivery-count header (set by quorum queues on a redelivery), any
// integer kind; nullopt when absent or not an integer.
std::optional<std::int64_t> amqp_delivery_count(const amqp_basic_properties_t& properties);
// A redelivery: the redelivered flag, or x-delivery-count > 0.
bool amqp_is_redelivery(bool redelivered_flag, const amqp_basic_properties_t& properties);

// Whether a basic.ack / basic.nack with `tag` and `multiple` answers the
// publish with delivery tag `expected` (tags count publishes on the channel
// from 1 after confirm.select; an older tag is a late answer to a publish
// that had already timed out).
bool amqp_confirm_covers(std::uint64_t expected, std::uint64_t tag, bool multiple);

// What the publisher makes of the frames read while it waits for the
// confirm of the publish with delivery tag `expected`. The server sends a
// message's basic.return before its basic.ack, so a return is pending until
// the next ack: an ack (or nack) for an older tag, skipped as the late
// answer to a publish that had timed out, takes the return with it.
enum class AmqpConfirmStep {
  kWait,      // not the answer yet: read the next frame
  kAcked,     // stored
  kReturned,  // acked, but returned unroutable (the queue does not exist)
  kNacked,    // the queue could not store it
};
class AmqpConfirmWait {
 public:
  explicit AmqpConfirmWait(std::uint64_t expected) : expected_(expected) {}
  AmqpConfirmStep on_ack(std::uint64_t tag, bool multiple);
  AmqpConfirmStep on_nack(std::uint64_t tag, bool multiple);
  void on_return() { returned_ = true; }

 private:
  std::uint64_t expected_;
  bool returned_ = false;
};

// client-properties for connection.start-ok: a `capabilities` table with
// consumer_cancel_notify, connection.blocked, publisher_confirms and
// basic.nack set true. The returned table points into this object, which
// must outlive it.
struct AmqpClientCapabilities {
  amqp_table_entry_t flags[4];
  amqp_table_entry_t entry;
  amqp_table_t properties() {
    entry.value.value.table = amqp_table_t{4, flags};
    return amqp_table_t{1, &entry};
  }
};
AmqpClientCapabilities amqp_client_capabilities();
// Whether `properties` has capabilities.<name> = true.
bool amqp_has_capability(const amqp_table_t& properties, const char* name);

// The quorum queue's declare arguments, the same the lab declares:
// x-queue-type = quorum, x-quorum-initial-group-size = 3. `entries` must
// outlive the returned table (it points into them).
struct AmqpQueueArguments {
  amqp_table_entry_t entries[2];
  amqp_table_t table() { return amqp_table_t{2, entries}; }
};
AmqpQueueArguments amqp_quorum_queue_arguments();

// "server closed the channel: 404 NOT_FOUND - no queue 'x'" or the
// library's error text ("a socket error occurred"); "" for a normal reply.
std::string amqp_describe_reply(const amqp_rpc_reply_t& reply);
// The server's close method (connection.close or channel.close) as
// "CODE TEXT", for a frame read outside an RPC.
std::string amqp_describe_close(const amqp_method_t& method);

}  // namespace chaos::lab::probe
