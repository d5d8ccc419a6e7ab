// chaos-probe: the lab's client. Publishes to a replicated JetStream stream
// or RabbitMQ quorum queue (--broker picks the driver) at a steady rate, consumes it, and exports the client-side SLIs on
// /metrics (success ratio, ack and end-to-end latency, lost and duplicated
// messages, reconnects). Runs until SIGINT/SIGTERM.
#include <signal.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <random>
#include <sstream>
#include <string>
#include <thread>

#include "common/host_port.h"
#include "common/version.h"
#include "lab/probe/nats/nats_client.h"
#include "lab/probe/nats/nats_session.h"
#include "lab/probe/probe_flags.h"
#include "lab/probe/probe_log.h"
#include "lab/probe/probe_loops.h"
#include "lab/probe/rabbitmq/rabbitmq_client.h"
#include "metrics/metrics_server.h"

namespace {

using chaos::lab::probe::ProbeFlags;

std::string random_run_id() {
  std::random_device device;
  std::ostringstream text;
  text << std::hex << device() << device();
  return text.str();
}

void block_termination_signals(sigset_t& signals) {
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
}

int fail(const std::string& message, int code) {
  chaos::lab::probe::probe_log(message);
  return code;
}

// Keeps trying to create the stream or queue: right after `lab up` the
// cluster may not have elected a leader yet.
// Returns false when a termination signal arrived first.
template <typename Attempt>
bool retry_until_ok(Attempt attempt, const sigset_t& signals) {
  timespec one_second{1, 0};
  while (true) {
    const chaos::Status status = attempt();
    if (status.ok()) return true;
    chaos::lab::probe::probe_log(status.message() + "; retrying");
    if (sigtimedwait(&signals, nullptr, &one_second) > 0) return false;
  }
}

// Runs the two loops on `client` until SIGINT/SIGTERM. `prepare` creates
// the stream or queue (retried); the consumer exists before the first
// publish, since a new one delivers only what is stored after it.
template <typename Prepare>
int run_probe(chaos::lab::probe::BrokerClient& client, chaos::lab::probe::ProbeMetrics& metrics,
              const ProbeFlags& flags, sigset_t& signals, Prepare prepare) {
  chaos::SystemClock clock;
  chaos::lab::probe::ProbeLoops loops(client, metrics, clock, flags.settings);
  if (!retry_until_ok(prepare, signals) || !retry_until_ok([&] { return loops.subscribe(); }, signals)) return 0;
  std::atomic<bool> stop{false};
  std::thread publisher([&] { loops.publish_until(stop); });
  std::thread consumer([&] { loops.consume_until(stop); });
  int received = 0;
  sigwait(&signals, &received);
  chaos::lab::probe::probe_log("signal " + std::to_string(received) + ", stopping");
  stop = true;
  clock.wake_all();
  publisher.join();
  consumer.join();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"chaos-probe: publishes to a replicated JetStream stream (--broker nats) or RabbitMQ quorum "
               "queue (--broker rabbitmq), consumes it and exports client-side SLIs on /metrics."};
  app.set_version_flag("--version", std::string("chaos-probe ") + chaos::kVersion);
  ProbeFlags flags;
  chaos::lab::probe::add_probe_flags(app, flags);
  CLI11_PARSE(app, argc, argv);
  if (auto status = chaos::lab::probe::resolve_probe_flags(flags); !status.ok()) return fail(status.message(), 2);
  auto metrics_address = chaos::split_host_port(flags.metrics_listen, "--metrics-listen");
  if (!metrics_address.ok()) return fail(metrics_address.status().message(), 2);
  flags.settings.run_id = random_run_id();

  sigset_t signals;
  block_termination_signals(signals);
  chaos::metrics::Registry registry;
  chaos::lab::probe::ProbeMetrics metrics(registry);
  chaos::lab::probe::export_config_info(registry, chaos::lab::probe::config_info_labels(flags));
  chaos::metrics::MetricsServer metrics_server(registry);
  if (auto status = metrics_server.start(metrics_address->first, metrics_address->second); !status.ok()) {
    return fail(status.message(), 1);
  }
  chaos::lab::probe::probe_log(std::string("version ") + chaos::kVersion + ": run " + flags.settings.run_id +
                               ", metrics on " + metrics_address->first + ":" +
                               std::to_string(metrics_server.port()) + "/metrics");
  int exit_code = 0;
  if (flags.broker == chaos::lab::probe::Broker::kRabbitMq) {
    chaos::lab::probe::RabbitMqSettings rabbitmq;
    rabbitmq.queue = flags.queue;
    rabbitmq.connection.heartbeat_seconds =
        static_cast<int>(std::chrono::duration_cast<std::chrono::seconds>(flags.session.ping_interval).count());
    // A server that stopped reading (memory alarm) drops the connection
    // instead of blocking a send forever.
    rabbitmq.connection.send_timeout = flags.settings.ack_timeout + 2 * flags.session.ping_interval;
    chaos::lab::probe::RabbitMqClient client(metrics, flags.session, rabbitmq);
    exit_code = run_probe(client, metrics, flags, signals, [&] { return client.connect(); });
  } else {
    chaos::lab::probe::NatsSession session(metrics, flags.session);
    if (auto status = session.connect(); !status.ok()) return fail(status.message(), 1);
    chaos::lab::probe::NatsClient client(session, flags.stream, flags.consumer);
    exit_code = run_probe(client, metrics, flags, signals, [&] { return session.ensure_stream(flags.stream); });
  }
  metrics_server.stop();
  if (flags.broker == chaos::lab::probe::Broker::kNats) nats_CloseAndWait(2000);
  return exit_code;
}
