// BrokerClient over cnats: synchronous JetStream publishes and a durable
// pull consumer (explicit acks) on the probe's stream. The publisher thread
// publishes and fails over, the consumer thread owns the subscription
// (subscribe, fetch, drop); fail_over() replaces the connection both use,
// so it takes the lock exclusively.
#pragma once

#include <nats/nats.h>

#include <shared_mutex>
#include <string>

#include "lab/probe/broker_client.h"
#include "lab/probe/nats/nats_session.h"

namespace chaos::lab::probe {

class NatsClient final : public BrokerClient {
 public:
  NatsClient(NatsSession& session, StreamSettings stream, ConsumerSettings consumer);
  ~NatsClient() override;
  NatsClient(const NatsClient&) = delete;
  NatsClient& operator=(const NatsClient&) = delete;

  Status publish(std::string_view body, Duration ack_timeout, std::string_view message_id) override;
  StatusOr<Subscribed> subscribe() override;
  StatusOr<std::vector<Delivered>> fetch(int batch, Duration wait) override;
  void drop_subscription() override;
  StatusOr<FailedOver> fail_over() override;
  std::string current_server() override;

 private:
  NatsSession& session_;
  StreamSettings stream_;
  ConsumerSettings consumer_;
  std::shared_mutex handles_mutex_;  // exclusive only in fail_over()
  natsSubscription* subscription_ = nullptr;
};

}  // namespace chaos::lab::probe
