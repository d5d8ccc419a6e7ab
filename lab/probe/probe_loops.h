// The probe's two loops: a publisher at a steady rate with a synchronous
// JetStream ack per message, and a pull consumer that classifies every
// delivery. Both run until `stop` is set and share one SequenceTracker.
#pragma once

#include <atomic>
#include <mutex>
#include <string>

#include "common/clock.h"
#include "lab/probe/nats_session.h"
#include "lab/probe/probe_metrics.h"
#include "lab/probe/sequence_tracker.h"

namespace chaos::lab::probe {

struct ProbeSettings {
  StreamSettings stream;
  std::string consumer = "chaos-probe";
  std::string run_id;
  double rate = 50.0;  // publishes per second
  Duration ack_timeout = std::chrono::seconds(2);
  Duration loss_grace = std::chrono::seconds(30);
};

class ProbeLoops {
 public:
  ProbeLoops(NatsSession& session, ProbeMetrics& metrics, Clock& clock, ProbeSettings settings);

  void publish_until(const std::atomic<bool>& stop);
  void consume_until(const std::atomic<bool>& stop);

 private:
  void publish_one(std::uint64_t sequence);
  natsSubscription* subscribe_until(const std::atomic<bool>& stop);
  void handle_delivery(natsMsg* message);
  void settle_expired();

  NatsSession& session_;
  ProbeMetrics& metrics_;
  Clock& clock_;
  ProbeSettings settings_;
  std::mutex tracker_mutex_;
  SequenceTracker tracker_;
};

}  // namespace chaos::lab::probe
