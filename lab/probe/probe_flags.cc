#include "lab/probe/probe_flags.h"

#include <sstream>

#include "common/duration.h"
#include "lab/probe/server_order.h"

namespace chaos::lab::probe {
namespace {

constexpr auto kMinPingInterval = std::chrono::milliseconds(100);
constexpr auto kMaxPingInterval = std::chrono::minutes(10);

void add_connection_flags(CLI::App& app, ProbeFlags& flags) {
  app.add_option("--servers", flags.servers, "Comma-separated NATS URLs (give every server)")
      ->capture_default_str();
  app.add_option("--first-server", flags.first_server,
                 "1-based index into --servers of the server to connect to first; the reconnect order is "
                 "the list rotated to start there (range 1..number of servers)")
      ->capture_default_str();
  app.add_flag("--randomize-servers", flags.session.randomize,
               "Let the client pick servers at random instead of in the --first-server order");
  app.add_option("--ping-interval", flags.ping_interval,
                 "Client PING interval (100ms..10m); a server that misses --max-pings-out PONGs is dropped")
      ->capture_default_str();
  app.add_option("--max-pings-out", flags.session.max_pings_out,
                 "Unanswered PINGs before the client drops the server and reconnects (1..100)")
      ->capture_default_str();
}

void add_publish_flags(CLI::App& app, ProbeFlags& flags) {
  app.add_option("--rate", flags.settings.rate, "Publishes per second")->capture_default_str();
  app.add_option("--ack-timeout", flags.ack_timeout, "Wait for a publish ack")->capture_default_str();
  app.add_option("--publish-retries", flags.settings.publish_retries,
                 "Re-send a publish that failed (ack timeout or refused) up to N times with the same Nats-Msg-Id (0..10); "
                 "the publish counts once in chaos_probe_publish_attempts_total, each re-send in "
                 "chaos_probe_publish_retries_total, and it succeeds when any try is acked (ack latency "
                 "from the first try)")
      ->capture_default_str();
  app.add_option("--failover-after", flags.settings.failover_after,
                 "After N failed publishes in a row (ack timeouts or refusals such as no responders; tries, re-sends "
                 "included; an ack resets the count) drop the server and connect to the next in the order, at most "
                 "once per --ack-timeout (0..1000, 0 = never)")
      ->capture_default_str();
}

void add_consume_flags(CLI::App& app, ProbeFlags& flags) {
  app.add_option("--consumer", flags.consumer.durable, "Durable pull consumer name")->capture_default_str();
  app.add_option("--ack-wait", flags.ack_wait, "Consumer AckWait: redelivery of unacknowledged messages")
      ->capture_default_str();
  app.add_option("--loss-grace", flags.loss_grace, "Acked but undelivered for this long = lost")
      ->capture_default_str();
  app.add_option("--dedupe-window", flags.settings.dedupe_window,
                 "Idempotent consumer: remember the ids of the last N messages processed and skip their "
                 "redeliveries (0..1000000, 0 = off); skipped ones still count as duplicated, not as "
                 "processed twice")
      ->capture_default_str();
}

Status check_range(const char* flag, long long value, long long low, long long high) {
  if (value >= low && value <= high) return {};
  return invalid_argument(std::string(flag) + " must be in " + std::to_string(low) + ".." + std::to_string(high) +
                          ", got " + std::to_string(value));
}

Status resolve_durations(ProbeFlags& flags) {
  auto with_flag = [](const char* flag, const Status& status) {
    return invalid_argument(std::string(flag) + ": " + status.message());
  };
  auto ack_timeout = parse_duration(flags.ack_timeout);
  if (!ack_timeout.ok()) return with_flag("--ack-timeout", ack_timeout.status());
  auto loss_grace = parse_duration(flags.loss_grace);
  if (!loss_grace.ok()) return with_flag("--loss-grace", loss_grace.status());
  auto ack_wait = parse_duration(flags.ack_wait);
  if (!ack_wait.ok()) return with_flag("--ack-wait", ack_wait.status());
  auto ping_interval = parse_duration(flags.ping_interval);
  if (!ping_interval.ok()) return with_flag("--ping-interval", ping_interval.status());
  flags.settings.ack_timeout = *ack_timeout;
  flags.settings.loss_grace = *loss_grace;
  flags.consumer.ack_wait = *ack_wait;
  flags.session.ping_interval = *ping_interval;
  if (*ping_interval < kMinPingInterval || *ping_interval > kMaxPingInterval) {
    return invalid_argument("--ping-interval must be in 100ms..10m, got " + flags.ping_interval);
  }
  if (flags.consumer.ack_wait * 2 > flags.settings.loss_grace) {
    return invalid_argument("--loss-grace must be at least twice --ack-wait, so one redelivery fits");
  }
  return {};
}

Status resolve_servers(ProbeFlags& flags) {
  const auto servers = split_servers(flags.servers);
  if (servers.empty()) return invalid_argument("--servers: no server given");
  CHAOS_RETURN_IF_ERROR(check_range("--first-server", flags.first_server, 1, static_cast<long long>(servers.size())));
  flags.session.servers = rotate_servers(servers, static_cast<std::size_t>(flags.first_server - 1));
  return {};
}

}  // namespace

void add_probe_flags(CLI::App& app, ProbeFlags& flags) {
  add_connection_flags(app, flags);
  app.add_option("--stream", flags.stream.name, "JetStream stream name")->capture_default_str();
  app.add_option("--subject", flags.stream.subject, "Subject to publish on")->capture_default_str();
  app.add_option("--replicas", flags.stream.replicas, "Stream replicas when creating it")
      ->check(CLI::Range(1, 5))->capture_default_str();
  add_publish_flags(app, flags);
  add_consume_flags(app, flags);
  app.add_option("--metrics-listen", flags.metrics_listen, "/metrics address HOST:PORT")->capture_default_str();
}

Status resolve_probe_flags(ProbeFlags& flags) {
  CHAOS_RETURN_IF_ERROR(resolve_durations(flags));
  if (flags.settings.rate <= 0 || flags.settings.rate > 10000) {
    return invalid_argument("--rate must be in (0, 10000]");
  }
  CHAOS_RETURN_IF_ERROR(check_range("--max-pings-out", flags.session.max_pings_out, 1, 100));
  CHAOS_RETURN_IF_ERROR(check_range("--publish-retries", flags.settings.publish_retries, 0, 10));
  CHAOS_RETURN_IF_ERROR(check_range("--failover-after", flags.settings.failover_after, 0, 1000));
  CHAOS_RETURN_IF_ERROR(check_range("--dedupe-window", flags.settings.dedupe_window, 0, 1000000));
  return resolve_servers(flags);
}

std::vector<std::string> split_servers(const std::string& list) {
  std::vector<std::string> servers;
  std::stringstream stream(list);
  std::string server;
  while (std::getline(stream, server, ',')) {
    if (!server.empty()) servers.push_back(server);
  }
  return servers;
}

std::vector<std::pair<std::string, std::string>> config_info_labels(const ProbeFlags& flags) {
  return {
      {"first_server", std::to_string(flags.first_server)},
      {"randomize_servers", flags.session.randomize ? "true" : "false"},
      {"ping_interval", format_duration(flags.session.ping_interval)},
      {"max_pings_out", std::to_string(flags.session.max_pings_out)},
      {"publish_retries", std::to_string(flags.settings.publish_retries)},
      {"failover_after", std::to_string(flags.settings.failover_after)},
      {"dedupe_window", std::to_string(flags.settings.dedupe_window)},
      {"ack_timeout", format_duration(flags.settings.ack_timeout)},
  };
}

}  // namespace chaos::lab::probe
