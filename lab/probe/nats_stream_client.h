// StreamClient over cnats: synchronous JetStream publishes and a durable
// pull consumer (explicit acks) on the probe's stream.
#pragma once

#include <nats/nats.h>

#include <string>

#include "lab/probe/nats_session.h"
#include "lab/probe/stream_client.h"

namespace chaos::lab::probe {

struct ConsumerSettings {
  std::string durable = "chaos-probe";
  // Unacknowledged deliveries (e.g. sent to a fetch that had already given
  // up) are redelivered after this; keep it well under the probe's loss grace.
  Duration ack_wait = std::chrono::seconds(5);
};

class NatsStreamClient final : public StreamClient {
 public:
  NatsStreamClient(NatsSession& session, StreamSettings stream, ConsumerSettings consumer);
  ~NatsStreamClient() override;
  NatsStreamClient(const NatsStreamClient&) = delete;
  NatsStreamClient& operator=(const NatsStreamClient&) = delete;

  Status publish(std::string_view body, Duration ack_timeout) override;
  StatusOr<Subscribed> subscribe() override;
  StatusOr<std::vector<std::string>> fetch(int batch, Duration wait) override;
  void drop_subscription() override;

 private:
  NatsSession& session_;
  StreamSettings stream_;
  ConsumerSettings consumer_;
  natsSubscription* subscription_ = nullptr;
};

}  // namespace chaos::lab::probe
