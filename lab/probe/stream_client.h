// The probe's narrow view of JetStream: publish with an ack, and a durable
// pull consumer. NatsStreamClient is the real one (cnats); tests use a fake
// so the probe's loops and its accounting run without a broker.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/status.h"

namespace chaos::lab::probe {

// What subscribe() did: bound the durable consumer that already existed, or
// created it. A created consumer starts at the stream's next message
// (DeliverNew), so anything stored before that moment is never delivered.
enum class Subscribed { kBound, kCreated };

class StreamClient {
 public:
  virtual ~StreamClient() = default;
  // Publishes `body`; OK only when the stream acknowledged it within
  // `ack_timeout`. Any error means "not confirmed" (it may still be stored).
  virtual Status publish(std::string_view body, Duration ack_timeout) = 0;
  // Creates or binds the durable pull consumer.
  virtual StatusOr<Subscribed> subscribe() = 0;
  // Up to `batch` messages, each acknowledged to the consumer on receipt;
  // none within `wait` is OK with an empty list. Needs a subscription.
  virtual StatusOr<std::vector<std::string>> fetch(int batch, Duration wait) = 0;
  // Forgets the subscription (the durable consumer stays on the server).
  virtual void drop_subscription() = 0;
};

}  // namespace chaos::lab::probe
