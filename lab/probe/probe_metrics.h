// The client-side SLIs chaos-probe exports on /metrics. Names follow
// promlint (counters end in _total, seconds as the unit).
#pragma once

#include <string>
#include <utility>
#include <vector>

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
  metrics::Counter& messages_processed_twice;
  metrics::Counter& messages_redelivered;
  metrics::Counter& publish_retries;
  metrics::Counter& failovers;
  metrics::Counter& messages_late;
  metrics::Counter& reconnects;
  metrics::Counter& disconnects;
  metrics::Counter& consume_errors;
  metrics::Gauge& messages_awaiting;
  metrics::Gauge& messages_missing;
  metrics::Gauge& publish_stall;
  metrics::Counter& consumer_recreations;
  metrics::Gauge& connected;
  // chaos_probe_server_info{server="..."} 1 for the server the publisher
  // is connected to: which node a finding's client sat on.
  metrics::GaugeFamily& server_info;
};

// chaos_probe_config_info{first_server=...,...} 1: the client options this
// probe runs with, so a run's metrics say which client they measured.
// `labels` in the order given (name, value).
void export_config_info(metrics::Registry& registry,
                        const std::vector<std::pair<std::string, std::string>>& labels);

}  // namespace chaos::lab::probe
