// The client-side SLIs chaos-probe exports on /metrics. Names follow
// promlint (counters end in _total, seconds as the unit).
#pragma once

#include "metrics/registry.h"

namespace chaos::lab::probe {

struct ProbeMetrics {
  explicit ProbeMetrics(metrics::Registry& registry);

  metrics::Counter& publish_attempts;
  metrics::Counter& publish_success;
  metrics::Counter& publish_errors;
  metrics::Histogram& publish_ack_latency;
  metrics::Histogram& end_to_end_latency;
  metrics::Counter& messages_received;
  metrics::Counter& messages_lost;
  metrics::Counter& messages_duplicated;
  metrics::Counter& messages_late;
  metrics::Counter& reconnects;
  metrics::Counter& disconnects;
  metrics::Counter& consume_errors;
  metrics::Gauge& messages_awaiting;
  metrics::Gauge& messages_missing;
  metrics::Gauge& publish_stall;
  metrics::Counter& consumer_recreations;
  metrics::Gauge& connected;
};

}  // namespace chaos::lab::probe
