// BrokerClient over AMQP 0-9-1 (rabbitmq-c, synchronous API) on one quorum
// queue. Two connections, one per probe thread, so neither waits on the
// other's socket:
// - the publisher's, in confirm mode: each publish is persistent
//   (delivery_mode 2, mandatory) and waits for its basic.ack / basic.nack;
// - the consumer's: basic.qos prefetch, basic.consume with manual acks,
//   every delivery acked on receipt.
// A dead connection (heartbeat timeout, socket error, server close) is
// reopened on the next call on the next server of the order; fail_over()
// moves the publisher on and the consumer follows it at its next
// subscribe(). A deleted queue is declared again: the consumer, cancelled
// by the server, told by the publisher's basic.return, or finding the queue
// gone when nothing arrived for a second, subscribes again; a publisher whose publish came back
// unroutable reopens (and declares) on its next publish. A publisher the
// server blocked (connection.blocked: memory or disk alarm) fails its
// publishes until connection.unblocked.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "lab/probe/broker_client.h"
#include "lab/probe/probe_flags.h"
#include "lab/probe/probe_metrics.h"
#include "lab/probe/rabbitmq/amqp_connection.h"
#include "lab/probe/rabbitmq/amqp_url.h"

namespace chaos::lab::probe {

struct RabbitMqSettings {
  std::string queue = "chaos-probe";
  // Deliveries in flight to the consumer before it acks; bounds what a
  // closed consumer connection hands back for redelivery.
  int prefetch = 100;
  AmqpConnectionOptions connection;
};

class RabbitMqClient final : public BrokerClient {
 public:
  // `session.servers` must be valid amqp:// URLs (resolve_probe_flags
  // checked them) in the order to try.
  RabbitMqClient(ProbeMetrics& metrics, const SessionSettings& session, RabbitMqSettings settings);
  ~RabbitMqClient() override = default;
  RabbitMqClient(const RabbitMqClient&) = delete;
  RabbitMqClient& operator=(const RabbitMqClient&) = delete;

  // Opens the publisher's connection and declares the queue; callers retry
  // while it fails (the cluster may still be forming).
  Status connect();

  Status publish(std::string_view body, Duration ack_timeout, std::string_view message_id) override;
  StatusOr<Subscribed> subscribe() override;
  StatusOr<std::vector<Delivered>> fetch(int batch, Duration wait) override;
  void drop_subscription() override;
  StatusOr<FailedOver> fail_over() override;
  std::string current_server() override;

 private:
  // Publisher side (publisher_mutex_ held).
  // `budget` caps each connect/RPC timeout (at least 1 s).
  Status open_publisher(Duration budget);
  Status lose_publisher(Status status);
  Status wait_for_confirm(std::uint64_t tag, SteadyTime deadline, Duration ack_timeout);
  // Reads frames until connection.unblocked or the deadline; an error while
  // still blocked.
  Status wait_until_unblocked(SteadyTime deadline);
  // Handles connection.blocked/unblocked; false for any other method.
  bool note_blocking(const amqp_method_t& method);
  // Consumer side (consumer thread only).
  StatusOr<Subscribed> open_consumer();
  Status lose_consumer(Status status);
  StatusOr<bool> consume_one(Duration wait, std::vector<Delivered>& deliveries);
  Status read_consumer_frame();
  // After a basic.cancel: declare the queue again and consume again on the
  // same channel.
  Status resubscribe();
  // Whether the queue still exists (a passive declare); if not, consumes
  // again on a new connection, which declares it.
  Status check_consumed_queue();
  // A queue declared before was missing and has been declared again.
  void note_queue_recreated();

  ProbeMetrics& metrics_;
  std::vector<AmqpServer> servers_;
  RabbitMqSettings settings_;

  // The index after `index` in the server order (wrapping): where a failed
  // or dropped connection moves on to.
  std::size_t server_after(std::size_t index) const;

  std::mutex publisher_mutex_;
  AmqpConnection publisher_;
  std::size_t publisher_index_ = 0;
  std::uint64_t next_tag_ = 1;  // the delivery tag of the next publish on this channel
  bool publisher_lost_ = false;  // a reopen after this counts as a reconnect
  bool publisher_blocked_ = false;  // connection.blocked without connection.unblocked yet
  // Where the publisher is (or goes next): the consumer starts there.
  std::atomic<std::size_t> preferred_index_{0};
  // Set by the first successful declare or bind, by either connection.
  std::atomic<bool> queue_declared_{false};
  // Counts the publisher's sightings of a missing queue (a basic.return): a
  // consumer opened before the last one consumes from a deleted queue.
  std::atomic<std::uint64_t> queue_generation_{0};
  std::uint64_t consumed_generation_ = 0;  // queue_generation_ when the consumer opened

  AmqpConnection consumer_;
  std::size_t consumer_index_ = 0;
  bool subscribed_ = false;
  bool consumer_lost_ = false;
  // The last delivery or queue check: fetch() checks the queue after
  // kConsumerCheckInterval without either.
  SteadyTime last_consumer_check_ = std::chrono::steady_clock::now();
  static constexpr Duration kConsumerCheckInterval = std::chrono::seconds(1);
};

}  // namespace chaos::lab::probe
