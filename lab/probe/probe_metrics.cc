#include "lab/probe/probe_metrics.h"

namespace chaos::lab::probe {

namespace {

metrics::Counter& counter(metrics::Registry& registry, const char* name, const char* help) {
  return registry.counter(name, help).with({});
}

// End-to-end latency includes redelivery after a failover, which can take
// tens of seconds: 0.5 ms .. ~65 s.
std::vector<double> end_to_end_buckets() { return metrics::exponential_buckets(0.0005, 2, 18); }

}  // namespace

ProbeMetrics::ProbeMetrics(metrics::Registry& registry)
    : publish_attempts(counter(registry, "chaos_probe_publish_attempts_total",
                               "Publishes attempted, each once however often it was re-sent.")),
      publish_success(counter(registry, "chaos_probe_publish_success_total",
                              "Publishes confirmed by the broker (JetStream ack, RabbitMQ publisher confirm) by any of their "
                              "tries.")),
      publish_errors(counter(registry, "chaos_probe_publish_errors_total",
                             "Publishes that failed or timed out without a confirmation on every try.")),
      publish_ack_latency(registry
                              .histogram("chaos_probe_publish_ack_latency_seconds",
                                         "Time from a publish's first try to its confirmation (JetStream ack, "
                                         "RabbitMQ basic.ack), confirmed publishes only.",
                                         {}, metrics::default_latency_buckets())
                              .with({})),
      end_to_end_latency(registry
                             .histogram("chaos_probe_end_to_end_latency_seconds",
                                        "Time from publish to first delivery to the probe's consumer.", {},
                                        end_to_end_buckets())
                             .with({})),
      messages_received(counter(registry, "chaos_probe_messages_received_total",
                                "Messages of this probe run delivered to its consumer, first deliveries.")),
      messages_lost(counter(registry, "chaos_probe_messages_lost_total",
                            "Messages the broker confirmed to the probe's publisher (stored by a quorum of the "
                            "stream's or quorum queue's replicas) that its durable consumer, existing since before "
                            "the publish, had not delivered within --loss-grace of the ack. Redeliveries count as "
                            "delivered.")),
      messages_duplicated(counter(registry, "chaos_probe_messages_duplicated_total",
                                  "Deliveries of a sequence that had already been delivered (skipped by "
                                  "--dedupe-window or not).")),
      messages_processed_twice(counter(registry, "chaos_probe_messages_processed_twice_total",
                                       "Deliveries of a sequence that had already been delivered and that the "
                                       "consumer processed again (equals the duplicated count when "
                                       "--dedupe-window is 0).")),
      messages_redelivered(counter(registry, "chaos_probe_messages_redelivered_total",
                                   "Duplicated deliveries the broker marked as redeliveries (an unacked copy "
                                   "delivered again); the other duplicates are second stored copies of a "
                                   "publish.")),
      publish_retries(counter(registry, "chaos_probe_publish_retries_total",
                              "Re-sends of a failed publish, same message id (--publish-retries); "
                              "not counted in the attempts.")),
      failovers(counter(registry, "chaos_probe_failovers_total",
                        "Forced reconnects to the next server after --failover-after failed publishes in a row.")),
      messages_late(counter(registry, "chaos_probe_messages_late_total",
                            "Messages delivered after they had been counted as lost.")),
      reconnects(counter(registry, "chaos_probe_reconnects_total", "Reconnections to the cluster after a lost connection (RabbitMQ: the "
                                     "publisher's or the consumer's).")),
      disconnects(counter(registry, "chaos_probe_disconnects_total",
                          "Losses of a connection to the cluster (RabbitMQ: the publisher's or the "
                          "consumer's).")),
      consume_errors(counter(registry, "chaos_probe_consume_errors_total",
                             "Failed fetches from the probe's consumer (timeouts excluded).")),
      messages_awaiting(registry
                            .gauge("chaos_probe_messages_awaiting",
                                   "Acknowledged messages within the grace period not delivered yet.")
                            .with({})),
      messages_missing(registry
                           .gauge("chaos_probe_messages_missing",
                                  "Messages counted in chaos_probe_messages_lost_total and still not delivered "
                                  "(a late delivery takes one out).")
                           .with({})),
      publish_stall(registry
                        .gauge("chaos_probe_publish_stall_seconds",
                               "Seconds since the last acknowledged publish, set after every attempt (0 right "
                               "after an ack; grows by up to --ack-timeout between updates).")
                        .with({})),
      consumer_recreations(counter(registry, "chaos_probe_consumer_recreations_total",
                                   "Times the probe's durable consumer (RabbitMQ: its queue) was gone and "
                                   "was re-created empty (messages stored meanwhile count as lost).")),
      connected(registry.gauge("chaos_probe_connected", "1 while connected to the cluster (RabbitMQ: the publisher's connection).").with({})),
      server_info(registry.gauge("chaos_probe_server_info",
                                 "1 for the server the probe's publisher is connected to now (no series while it is "
                                 "not connected).",
                                 {"server"})) {}

void export_config_info(metrics::Registry& registry,
                        const std::vector<std::pair<std::string, std::string>>& labels) {
  std::vector<std::string> names;
  std::vector<std::string> values;
  for (const auto& [name, value] : labels) {
    names.push_back(name);
    values.push_back(value);
  }
  registry.gauge("chaos_probe_config_info", "The probe's client options, as labels; always 1.", names)
      .with(values)
      .set(1);
}

}  // namespace chaos::lab::probe
