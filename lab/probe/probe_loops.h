// The probe's two loops: a publisher at a steady rate with a synchronous
// broker confirmation per message (optionally re-sent, and failing over to the
// next server after repeated ack timeouts), and a pull consumer that
// classifies every delivery (optionally skipping redeliveries it has
// already processed). Both share one SequenceTracker.
//
// Order matters: subscribe() must succeed before publishing starts. The
// NATS durable consumer is created with DeliverNew, so a message stored
// before it exists is never delivered and would be counted as lost (the
// probe did exactly that to its first message until it subscribed first).
// A RabbitMQ queue keeps messages for whichever consumer comes, once it is
// declared; subscribing first costs nothing there.
#pragma once

#include <atomic>
#include <mutex>
#include <optional>
#include <string>

#include "common/clock.h"
#include "lab/probe/dedupe_window.h"
#include "lab/probe/probe_metrics.h"
#include "lab/probe/sequence_tracker.h"
#include "lab/probe/broker_client.h"

namespace chaos::lab::probe {

struct ProbeSettings {
  std::string run_id;
  double rate = 50.0;  // publishes per second
  Duration ack_timeout = std::chrono::seconds(2);
  Duration loss_grace = std::chrono::seconds(15);
  int publish_retries = 0;  // re-sends of a timed-out publish, same message id
  int failover_after = 0;   // failed publishes in a row before a forced failover; 0 = never
  int dedupe_window = 0;    // stream sequences the consumer remembers; 0 = off
};

class ProbeLoops {
 public:
  ProbeLoops(BrokerClient& client, ProbeMetrics& metrics, Clock& clock, ProbeSettings settings);

  // Creates or binds the consumer; call until OK before publish_until.
  Status subscribe();
  // Both return at once unless subscribe() succeeded.
  void publish_until(const std::atomic<bool>& stop);
  void consume_until(const std::atomic<bool>& stop);

  // One step of each loop, for tests.
  void publish_one(std::uint64_t sequence);
  // One fetch; false when it failed.
  bool consume_once();

 private:
  // One logical publish: the first try and up to publish_retries re-sends.
  Status publish_with_retries(std::string_view body, std::string_view message_id);
  // Counts an ack timeout (or resets on an ack) and fails over when due.
  void note_publish_result(const Status& status);
  void log_publish_transition(const Status& status, std::uint64_t sequence);
  // Keeps chaos_probe_server_info on the publisher's current server.
  void note_server(const std::string& server);
  void fail_over();
  void handle_delivery(const Delivered& delivered);
  void settle_expired();
  bool resubscribe_until(const std::atomic<bool>& stop);

  BrokerClient& client_;
  ProbeMetrics& metrics_;
  Clock& clock_;
  ProbeSettings settings_;
  std::atomic<bool> subscribed_{false};
  std::atomic<bool> resubscribe_requested_{false};  // set by a failover
  std::mutex tracker_mutex_;
  SequenceTracker tracker_;
  DedupeWindow dedupe_;              // consumer thread only
  SteadyTime last_ack_;              // publisher thread only
  int failures_in_a_row_ = 0;        // publisher thread only
  std::optional<SteadyTime> last_failover_;  // publisher thread only
  // What stderr last said about publishing (publisher thread only).
  bool publishes_ok_ = true;
  std::uint64_t failed_publishes_ = 0;
  std::string last_publish_error_;  // what the latest failed publish said
  std::string server_;              // publisher thread only: the server_info series shown
  std::optional<SteadyTime> logged_transition_;
  std::string last_fetch_error_;     // consumer thread only
};

}  // namespace chaos::lab::probe
