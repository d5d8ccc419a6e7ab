// The probe's two loops: a publisher at a steady rate with a synchronous
// JetStream ack per message, and a pull consumer that classifies every
// delivery. Both share one SequenceTracker.
//
// Order matters: subscribe() must succeed before publishing starts. The
// durable consumer is created with DeliverNew, so a message stored before
// it exists is never delivered and would be counted as lost (the probe did
// exactly that to its first message until it subscribed first).
#pragma once

#include <atomic>
#include <mutex>
#include <string>

#include "common/clock.h"
#include "lab/probe/probe_metrics.h"
#include "lab/probe/sequence_tracker.h"
#include "lab/probe/stream_client.h"

namespace chaos::lab::probe {

struct ProbeSettings {
  std::string run_id;
  double rate = 50.0;  // publishes per second
  Duration ack_timeout = std::chrono::seconds(2);
  Duration loss_grace = std::chrono::seconds(15);
};

class ProbeLoops {
 public:
  ProbeLoops(StreamClient& client, ProbeMetrics& metrics, Clock& clock, ProbeSettings settings);

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
  void handle_delivery(std::string_view body);
  void settle_expired();
  bool resubscribe_until(const std::atomic<bool>& stop);

  StreamClient& client_;
  ProbeMetrics& metrics_;
  Clock& clock_;
  ProbeSettings settings_;
  std::atomic<bool> subscribed_{false};
  std::mutex tracker_mutex_;
  SequenceTracker tracker_;
  SteadyTime last_ack_;              // publisher thread only
  std::string last_fetch_error_;     // consumer thread only
};

}  // namespace chaos::lab::probe
