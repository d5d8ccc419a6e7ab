#include "lab/probe/probe_flags.h"

#include <sstream>

#include "common/duration.h"
#include "lab/probe/rabbitmq/amqp_url.h"
#include "lab/probe/server_order.h"

namespace chaos::lab::probe {
namespace {

constexpr auto kMinPingInterval = std::chrono::milliseconds(100);
constexpr auto kMaxPingInterval = std::chrono::minutes(10);

// Flags whose meaning exists for one broker only. Every other flag carries
// over (for RabbitMQ --ping-interval is the AMQP heartbeat).
constexpr const char* kNatsOnlyFlags[] = {"--stream", "--subject", "--replicas", "--consumer", "--ack-wait",
                                          "--max-pings-out"};
constexpr const char* kRabbitMqOnlyFlags[] = {"--queue"};

// Remembers that `option` was given, for the per-broker checks.
CLI::Option* broker_specific(CLI::Option* option, ProbeFlags& flags) {
  const std::string name = "--" + option->get_single_name();
  option->each([&flags, name](const std::string&) { flags.given.insert(name); });
  return option;
}

void add_broker_flags(CLI::App& app, ProbeFlags& flags) {
  app.add_option("--broker", flags.broker_name,
                 "Which broker to probe: nats = a JetStream stream (publish acks, durable pull consumer); "
                 "rabbitmq = a quorum queue over AMQP 0-9-1 (publisher confirms, manual consumer acks)")
      ->check(CLI::IsMember({"nats", "rabbitmq"}))
      ->capture_default_str();
  broker_specific(app.add_option("--queue", flags.queue,
                                 "RabbitMQ only: the quorum queue to publish to and consume from (declared "
                                 "durable with 3 replicas if missing)"),
                  flags)
      ->capture_default_str();
}

void add_connection_flags(CLI::App& app, ProbeFlags& flags) {
  app.add_option("--servers", flags.servers,
                 "Comma-separated broker URLs, give every server. nats: nats://HOST:PORT (default " +
                     std::string(kDefaultNatsServer) + "); rabbitmq: amqp://USER:PASS@HOST:PORT[/VHOST] (default " +
                     kDefaultAmqpServer + ")");
  app.add_option("--first-server", flags.first_server,
                 "1-based index into --servers of the server to connect to first; the reconnect order is "
                 "the list rotated to start there (range 1..number of servers)")
      ->capture_default_str();
  app.add_flag("--randomize-servers", flags.session.randomize,
               "Let the client pick servers at random instead of in the --first-server order");
  app.add_option("--ping-interval", flags.ping_interval,
                 "nats: client PING interval (100ms..10m), a server that misses --max-pings-out PONGs is "
                 "dropped; rabbitmq: the AMQP heartbeat (whole seconds, 1s..10m), a server silent for two "
                 "heartbeats is dropped")
      ->capture_default_str();
  broker_specific(app.add_option("--max-pings-out", flags.session.max_pings_out,
                                 "NATS only: unanswered PINGs before the client drops the server and reconnects "
                                 "(1..100)"),
                  flags)
      ->capture_default_str();
}

void add_publish_flags(CLI::App& app, ProbeFlags& flags) {
  app.add_option("--rate", flags.settings.rate, "Publishes per second")->capture_default_str();
  app.add_option("--ack-timeout", flags.ack_timeout, "Wait for a publish ack")->capture_default_str();
  app.add_option("--publish-retries", flags.settings.publish_retries,
                 "Re-send a publish that failed (ack timeout or refused) up to N times with the same message id "
                 "(Nats-Msg-Id / AMQP message_id) (0..10); JetStream drops a re-sent copy within its duplicate "
                 "window, RabbitMQ does not deduplicate: there every try that was stored counts as duplicated; "
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
  broker_specific(app.add_option("--consumer", flags.consumer.durable, "NATS only: durable pull consumer name"), flags)
      ->capture_default_str();
  broker_specific(app.add_option("--ack-wait", flags.ack_wait,
                                 "NATS only: consumer AckWait, redelivery of unacknowledged messages (RabbitMQ "
                                 "redelivers when the consumer's channel closes)"),
                  flags)
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
  if (flags.broker == Broker::kNats && flags.consumer.ack_wait * 2 > flags.settings.loss_grace) {
    return invalid_argument("--loss-grace must be at least twice --ack-wait, so one redelivery fits");
  }
  return {};
}

Status check_broker_flags(const ProbeFlags& flags) {
  const bool nats = flags.broker == Broker::kNats;
  const auto refuse = [&](const auto& only, const char* owner) -> Status {
    for (const char* flag : only) {
      if (flags.given.count(flag) != 0) {
        return invalid_argument(std::string(flag) + " is " + owner + " only, not for --broker " + flags.broker_name);
      }
    }
    return {};
  };
  return nats ? refuse(kRabbitMqOnlyFlags, "RabbitMQ") : refuse(kNatsOnlyFlags, "NATS");
}

Status check_rabbitmq_settings(const ProbeFlags& flags) {
  const auto heartbeat = flags.session.ping_interval;
  if (heartbeat < std::chrono::seconds(1) || heartbeat % std::chrono::seconds(1) != Duration::zero()) {
    return invalid_argument("--ping-interval is the AMQP heartbeat with --broker rabbitmq: whole seconds from 1s, got " +
                            flags.ping_interval);
  }
  // The synchronous AMQP client only sends heartbeats while the publisher
  // is inside a library call; a publisher idle for two heartbeats between
  // publishes would be dropped by the server.
  if (flags.settings.rate * std::chrono::duration<double>(heartbeat).count() < 1.0) {
    return invalid_argument("--ping-interval (the AMQP heartbeat) must be at least the publish interval 1/--rate, got " +
                            flags.ping_interval);
  }
  if (flags.queue.empty() || flags.queue.size() > 255) return invalid_argument("--queue must be 1..255 bytes");
  return {};
}

Status resolve_servers(ProbeFlags& flags) {
  if (flags.servers.empty()) flags.servers = flags.broker == Broker::kNats ? kDefaultNatsServer : kDefaultAmqpServer;
  const auto servers = split_servers(flags.servers);
  if (servers.empty()) return invalid_argument("--servers: no server given");
  if (flags.broker == Broker::kRabbitMq) {
    for (const auto& server : servers) {
      if (auto parsed = parse_amqp_url(server); !parsed.ok()) {
        return invalid_argument("--servers: '" + amqp_url_masked(server) + "' " + parsed.status().message());
      }
    }
  }
  CHAOS_RETURN_IF_ERROR(check_range("--first-server", flags.first_server, 1, static_cast<long long>(servers.size())));
  flags.session.servers = rotate_servers(servers, static_cast<std::size_t>(flags.first_server - 1));
  return {};
}

}  // namespace

void add_probe_flags(CLI::App& app, ProbeFlags& flags) {
  add_broker_flags(app, flags);
  add_connection_flags(app, flags);
  broker_specific(app.add_option("--stream", flags.stream.name, "NATS only: JetStream stream name"), flags)
      ->capture_default_str();
  broker_specific(app.add_option("--subject", flags.stream.subject, "NATS only: subject to publish on"), flags)
      ->capture_default_str();
  broker_specific(app.add_option("--replicas", flags.stream.replicas, "NATS only: stream replicas when creating it"),
                  flags)
      ->check(CLI::Range(1, 5))->capture_default_str();
  add_publish_flags(app, flags);
  add_consume_flags(app, flags);
  app.add_option("--metrics-listen", flags.metrics_listen, "/metrics address HOST:PORT")->capture_default_str();
}

const char* broker_name(Broker broker) { return broker == Broker::kNats ? "nats" : "rabbitmq"; }

Status resolve_probe_flags(ProbeFlags& flags) {
  if (flags.broker_name == "nats") {
    flags.broker = Broker::kNats;
  } else if (flags.broker_name == "rabbitmq") {
    flags.broker = Broker::kRabbitMq;
  } else {
    return invalid_argument("--broker must be nats or rabbitmq, got " + flags.broker_name);
  }
  CHAOS_RETURN_IF_ERROR(check_broker_flags(flags));
  CHAOS_RETURN_IF_ERROR(resolve_durations(flags));
  if (flags.settings.rate <= 0 || flags.settings.rate > 10000) {
    return invalid_argument("--rate must be in (0, 10000]");
  }
  if (flags.broker == Broker::kRabbitMq) CHAOS_RETURN_IF_ERROR(check_rabbitmq_settings(flags));
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
      {"broker", broker_name(flags.broker)},
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
