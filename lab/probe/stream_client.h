// The probe's narrow view of JetStream: publish with an ack, a durable pull
// consumer, and a forced move to another server. NatsStreamClient is the
// real one (cnats); tests use a fake so the probe's loops and its
// accounting run without a broker.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/status.h"

namespace chaos::lab::probe {

struct StreamSettings {
  std::string name;
  std::string subject;
  int replicas = 3;
};

struct ConsumerSettings {
  std::string durable = "chaos-probe";
  // Unacknowledged deliveries (e.g. sent to a fetch that had already given
  // up) are redelivered after this; keep it well under the probe's loss grace.
  Duration ack_wait = std::chrono::seconds(5);
};

// What subscribe() did: bound the durable consumer that already existed, or
// created it. A created consumer starts at the stream's next message
// (DeliverNew), so anything stored before that moment is never delivered.
enum class Subscribed { kBound, kCreated };

// One message as the consumer got it; a redelivery has the same
// stream_sequence, a second stored copy of a publish a new one.
struct Delivered {
  std::string body;
  std::uint64_t stream_sequence = 0;
};

// A forced failover: the server given up and the one connected to now
// (empty while the client is still trying the list).
struct FailedOver {
  std::string from;
  std::string to;
};

class StreamClient {
 public:
  virtual ~StreamClient() = default;
  // Publishes `body`; OK only when the stream acknowledged it within
  // `ack_timeout`; kDeadlineExceeded when no ack came in time, other codes
  // for other failures. Any error means "not confirmed" (it may still be
  // stored). A non-empty `message_id` is sent as Nats-Msg-Id, so JetStream
  // drops a second copy within its duplicate window.
  virtual Status publish(std::string_view body, Duration ack_timeout, std::string_view message_id) = 0;
  // Creates or binds the durable pull consumer.
  virtual StatusOr<Subscribed> subscribe() = 0;
  // Up to `batch` messages, each acknowledged to the consumer on receipt;
  // none within `wait` is OK with an empty list. Needs a subscription.
  virtual StatusOr<std::vector<Delivered>> fetch(int batch, Duration wait) = 0;
  // Forgets the subscription (the durable consumer stays on the server).
  virtual void drop_subscription() = 0;
  // Drops the current server and connects to the next one in the order.
  // May be called from another thread than the consumer's; the
  // subscription is useless afterwards until subscribe() is called again.
  virtual StatusOr<FailedOver> fail_over() = 0;
};

}  // namespace chaos::lab::probe
