// chaos-probe: the lab's client. Publishes to a replicated JetStream stream
// at a steady rate, consumes it, and exports the client-side SLIs on
// /metrics (success ratio, ack and end-to-end latency, lost and duplicated
// messages, reconnects). Runs until SIGINT/SIGTERM.
#include <signal.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <iostream>
#include <random>
#include <sstream>
#include <thread>

#include "common/duration.h"
#include "common/version.h"
#include "lab/probe/nats_session.h"
#include "lab/probe/nats_stream_client.h"
#include "lab/probe/probe_loops.h"
#include "common/host_port.h"
#include "metrics/metrics_server.h"

namespace {

using chaos::lab::probe::ConsumerSettings;
using chaos::lab::probe::ProbeSettings;
using chaos::lab::probe::StreamSettings;

struct ProbeFlags {
  std::string servers = "nats://127.0.0.1:4222";
  std::string metrics_listen = "127.0.0.1:19800";
  std::string ack_timeout = "2s";
  std::string ack_wait = "5s";
  std::string loss_grace = "15s";
  StreamSettings stream{"CHAOS_PROBE", "chaos.probe", 3};
  ConsumerSettings consumer;
  ProbeSettings settings;
};

std::vector<std::string> split_servers(const std::string& list) {
  std::vector<std::string> servers;
  std::stringstream stream(list);
  std::string server;
  while (std::getline(stream, server, ',')) {
    if (!server.empty()) servers.push_back(server);
  }
  return servers;
}

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
  std::cerr << "chaos-probe: " << message << "\n";
  return code;
}

chaos::Status resolve_durations(ProbeFlags& flags) {
  CHAOS_ASSIGN_OR_RETURN(flags.settings.ack_timeout, chaos::parse_duration(flags.ack_timeout));
  CHAOS_ASSIGN_OR_RETURN(flags.settings.loss_grace, chaos::parse_duration(flags.loss_grace));
  CHAOS_ASSIGN_OR_RETURN(flags.consumer.ack_wait, chaos::parse_duration(flags.ack_wait));
  if (flags.consumer.ack_wait * 2 > flags.settings.loss_grace) {
    return chaos::invalid_argument("--loss-grace must be at least twice --ack-wait, so one redelivery fits");
  }
  if (flags.settings.rate <= 0 || flags.settings.rate > 10000) {
    return chaos::invalid_argument("--rate must be in (0, 10000]");
  }
  return {};
}

// Keeps trying to create the stream: right after `lab up` the cluster may
// not have elected a JetStream leader yet.
// Returns false when a termination signal arrived first.
template <typename Attempt>
bool retry_until_ok(Attempt attempt, const sigset_t& signals) {
  timespec one_second{1, 0};
  while (true) {
    const chaos::Status status = attempt();
    if (status.ok()) return true;
    std::cerr << "chaos-probe: " << status.message() << "; retrying\n";
    if (sigtimedwait(&signals, nullptr, &one_second) > 0) return false;
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"chaos-probe: publishes to a replicated JetStream stream, consumes it and exports "
               "client-side SLIs on /metrics."};
  app.set_version_flag("--version", std::string("chaos-probe ") + chaos::kVersion);
  ProbeFlags flags;
  app.add_option("--servers", flags.servers, "Comma-separated NATS URLs (give every server)")
      ->capture_default_str();
  app.add_option("--stream", flags.stream.name, "JetStream stream name")->capture_default_str();
  app.add_option("--subject", flags.stream.subject, "Subject to publish on")->capture_default_str();
  app.add_option("--replicas", flags.stream.replicas, "Stream replicas when creating it")
      ->check(CLI::Range(1, 5))->capture_default_str();
  app.add_option("--consumer", flags.consumer.durable, "Durable pull consumer name")->capture_default_str();
  app.add_option("--ack-wait", flags.ack_wait, "Consumer AckWait: redelivery of unacknowledged messages")
      ->capture_default_str();
  app.add_option("--rate", flags.settings.rate, "Publishes per second")->capture_default_str();
  app.add_option("--ack-timeout", flags.ack_timeout, "Wait for a publish ack")->capture_default_str();
  app.add_option("--loss-grace", flags.loss_grace, "Acked but undelivered for this long = lost")
      ->capture_default_str();
  app.add_option("--metrics-listen", flags.metrics_listen, "/metrics address HOST:PORT")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  if (auto status = resolve_durations(flags); !status.ok()) return fail(status.message(), 2);
  auto metrics_address = chaos::split_host_port(flags.metrics_listen, "--metrics-listen");
  if (!metrics_address.ok()) return fail(metrics_address.status().message(), 2);
  const auto servers = split_servers(flags.servers);
  if (servers.empty()) return fail("--servers: no server given", 2);
  flags.settings.run_id = random_run_id();

  sigset_t signals;
  block_termination_signals(signals);
  chaos::metrics::Registry registry;
  chaos::lab::probe::ProbeMetrics metrics(registry);
  chaos::metrics::MetricsServer metrics_server(registry);
  if (auto status = metrics_server.start(metrics_address->first, metrics_address->second); !status.ok()) {
    return fail(status.message(), 1);
  }
  std::cerr << "chaos-probe " << chaos::kVersion << ": run " << flags.settings.run_id << ", metrics on "
            << metrics_address->first << ":" << metrics_server.port() << "/metrics\n";
  int exit_code = 0;
  {
    chaos::lab::probe::NatsSession session(metrics);
    if (auto status = session.connect(servers); !status.ok()) return fail(status.message(), 1);
    chaos::lab::probe::NatsStreamClient client(session, flags.stream, flags.consumer);
    chaos::SystemClock clock;
    chaos::lab::probe::ProbeLoops loops(client, metrics, clock, flags.settings);
    // The consumer exists before the first publish: it delivers only what
    // is stored after it was created.
    if (retry_until_ok([&] { return session.ensure_stream(flags.stream); }, signals) &&
        retry_until_ok([&] { return loops.subscribe(); }, signals)) {
      std::atomic<bool> stop{false};
      std::thread publisher([&] { loops.publish_until(stop); });
      std::thread consumer([&] { loops.consume_until(stop); });
      int received = 0;
      sigwait(&signals, &received);
      std::cerr << "chaos-probe: signal " << received << ", stopping\n";
      stop = true;
      clock.wake_all();
      publisher.join();
      consumer.join();
    }
  }
  metrics_server.stop();
  nats_CloseAndWait(2000);
  return exit_code;
}
