// The probe's narrow view of a broker: publish with a confirmation, a
// durable consumer with manual acks, and a forced move to another server.
// Two drivers implement it: nats/NatsClient (JetStream over cnats) and
// rabbitmq/RabbitMqClient (a quorum queue over AMQP 0-9-1); tests use a fake
// so the probe's loops and its loss accounting run without a broker. What
// the probe measures (ProbeLoops, SequenceTracker, ProbeMetrics) is shared:
// it sees only this interface.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/status.h"

namespace chaos::lab::probe {

// What subscribe() did: bound the consumer's durable state (a JetStream
// durable consumer, a RabbitMQ queue) that already existed, or created it.
// A created one starts empty, so anything published before that moment is
// never delivered.
enum class Subscribed { kBound, kCreated };

// One message as the consumer got it. `redelivered` says the broker
// delivered this stored copy before (NATS: the consumer's delivery count of
// the stream sequence > 1; RabbitMQ: the redelivered flag or an
// x-delivery-count header > 0). A second stored copy of one publish is not
// a redelivery: its first delivery is not marked.
struct Delivered {
  std::string body;
  bool redelivered = false;
};

// A forced failover: the server given up and the one connected to now
// (empty while the client is still trying the list).
struct FailedOver {
  std::string from;
  std::string to;
};

class BrokerClient {
 public:
  virtual ~BrokerClient() = default;
  // Publishes `body`; OK only when the broker confirmed it within
  // `ack_timeout`; kDeadlineExceeded when no confirmation came in time,
  // other codes for other failures (a refusal, a nack, a lost connection).
  // Any error means "not confirmed" (it may still be stored). A non-empty
  // `message_id` is sent with the message (NATS: Nats-Msg-Id, so JetStream
  // drops a second copy within its duplicate window; RabbitMQ: the
  // message_id property, which the broker does not deduplicate on).
  virtual Status publish(std::string_view body, Duration ack_timeout, std::string_view message_id) = 0;
  // Creates or binds the durable consumer.
  virtual StatusOr<Subscribed> subscribe() = 0;
  // Up to `batch` messages, each acknowledged to the broker on receipt;
  // none within `wait` is OK with an empty list. Needs a subscription.
  virtual StatusOr<std::vector<Delivered>> fetch(int batch, Duration wait) = 0;
  // Forgets the subscription (the durable state stays on the server).
  virtual void drop_subscription() = 0;
  // Drops the current server and connects to the next one in the order.
  // May be called from another thread than the consumer's; the
  // subscription is useless afterwards until subscribe() is called again.
  virtual StatusOr<FailedOver> fail_over() = 0;
  // The server the publisher is connected to now ("nats://10.77.0.13:4222",
  // "10.77.0.13:5672"); empty while it is not connected. Called by the
  // publisher thread.
  virtual std::string current_server() = 0;
};

}  // namespace chaos::lab::probe
