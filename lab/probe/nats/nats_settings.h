// The JetStream objects the NATS driver publishes to and consumes from
// (--stream, --subject, --replicas, --consumer, --ack-wait).
#pragma once

#include <chrono>
#include <string>

#include "common/clock.h"

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

}  // namespace chaos::lab::probe
