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
#include <string>
#include <thread>

#include "common/version.h"
#include "lab/probe/nats/nats_session.h"
#include "lab/probe/nats/nats_client.h"
#include "lab/probe/probe_flags.h"
#include "lab/probe/probe_loops.h"
#include "common/host_port.h"
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
  std::cerr << "chaos-probe: " << message << "\n";
  return code;
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
  if (flags.broker == chaos::lab::probe::Broker::kRabbitMq) {
    return fail("--broker rabbitmq: the RabbitMQ driver is not built into this chaos-probe yet", 2);
  }

  sigset_t signals;
  block_termination_signals(signals);
  chaos::metrics::Registry registry;
  chaos::lab::probe::ProbeMetrics metrics(registry);
  chaos::lab::probe::export_config_info(registry, chaos::lab::probe::config_info_labels(flags));
  chaos::metrics::MetricsServer metrics_server(registry);
  if (auto status = metrics_server.start(metrics_address->first, metrics_address->second); !status.ok()) {
    return fail(status.message(), 1);
  }
  std::cerr << "chaos-probe " << chaos::kVersion << ": run " << flags.settings.run_id << ", metrics on "
            << metrics_address->first << ":" << metrics_server.port() << "/metrics\n";
  int exit_code = 0;
  {
    chaos::lab::probe::NatsSession session(metrics, flags.session);
    if (auto status = session.connect(); !status.ok()) return fail(status.message(), 1);
    chaos::lab::probe::NatsClient client(session, flags.stream, flags.consumer);
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
