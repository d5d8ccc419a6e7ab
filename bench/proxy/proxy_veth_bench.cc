// One TCP stream in the topology a tcp.* fault intercepts in production
// (root): a client namespace and a server namespace joined by a veth pair
// (lab/testbed's A and B), the proxy engine running in the client's
// namespace as the agent runs it there (upstream sockets marked, IPv4
// listener on 127.0.0.1) behind the nft table the tcp.* kinds install
// (render/install_proxy_redirect: nat output, SYN to the server's port
// redirected to the proxy). In each round: direct (a port the table does
// not cover), then through the proxy with the pass-through filter
// (recv()/send(), as the agent runs it), with the engine's splice() option,
// and with a filter that copies every byte. Every byte crosses the veth
// once, and (proxied) the client namespace's loopback once more.
// Prints one JSON object; the namespaces, the veth pair and the nft table
// go on every exit path, SIGINT and SIGTERM included (they end the stream
// early and the run unwinds normally).
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <iostream>
#include <memory>
#include <stdexcept>
#include <thread>

#include "agent/faults/dns/dns_redirect_rules.h"
#include "agent/faults/proxy/proxy_redirect_rules.h"
#include "bench/proxy/bench_engine.h"
#include "bench/proxy/stream_meter.h"
#include "bench/support/json_out.h"
#include "common/command_runner.h"
#include "lab/testbed/network_test_bed.h"

namespace {

using namespace chaos;
using namespace chaos::bench;
using chaos::testing::kAddressB;

constexpr std::uint16_t kVethDirectPort = 7041;
constexpr std::uint16_t kVethProxiedPort = 7042;
constexpr const char* kVethTable = "chaos_tcp_proxy_veth_bench";

// SIGINT, SIGTERM and SIGHUP blocked in every thread (made before any
// other) and turned into a flag, so an interrupted run still unwinds.
class VethInterrupts {
 public:
  VethInterrupts() {
    sigemptyset(&signals_);
    for (int signal : {SIGINT, SIGTERM, SIGHUP}) sigaddset(&signals_, signal);
    pthread_sigmask(SIG_BLOCK, &signals_, nullptr);
    thread_ = std::thread([this] {
      const timespec poll{0, 100'000'000};
      while (!done_) {
        if (sigtimedwait(&signals_, nullptr, &poll) > 0) interrupted_ = true;
      }
    });
  }
  ~VethInterrupts() {
    done_ = true;
    thread_.join();
  }
  const std::atomic<bool>& interrupted() const { return interrupted_; }

 private:
  sigset_t signals_{};
  std::atomic<bool> done_{false};
  std::atomic<bool> interrupted_{false};
  std::thread thread_;
};

// The run's nft table in the client namespace, removed on the way out
// (deleting the namespace would take it too).
class VethRedirectTable {
 public:
  explicit VethRedirectTable(CommandRunner& commands) : commands_(commands) {}
  ~VethRedirectTable() { remove(); }
  // Gone before each direct stream: the direct figure is the path without
  // the fault (no nat chain, no conntrack in the namespace).
  void remove() {
    if (installed_) (void)agent::dns::remove_redirect(commands_, kVethTable);
    installed_ = false;
  }
  // Redirects new connections to the server's proxied port to `proxy_port`.
  void install(std::uint16_t proxy_port) {
    agent::proxy::ProxyRedirectRules rules;
    rules.table = kVethTable;
    rules.proxy_port = proxy_port;
    rules.port = kVethProxiedPort;
    rules.address = kAddressB;
    installed_ = true;
    const Status status = agent::proxy::install_proxy_redirect(commands_, rules);
    if (!status.ok()) throw std::runtime_error(status.message());
  }

 private:
  CommandRunner& commands_;
  bool installed_ = false;
};

struct VethBed {
  const chaos::testing::NetworkTestBed& bed;
  int client_namespace_fd;
  VethRedirectTable& table;
  double seconds;
  const std::atomic<bool>& stop;
};

// A receiver in the server namespace.
std::unique_ptr<StreamReceiver> veth_receiver(const VethBed& veth, std::uint16_t port) {
  chaos::testing::NamespaceEntry in_server(veth.bed.b());
  auto receiver = std::make_unique<StreamReceiver>(stream_address(kAddressB, port));
  if (!receiver->ok()) {
    throw std::runtime_error("cannot listen on " + std::string(kAddressB) + ":" + std::to_string(port));
  }
  return receiver;
}

StreamFigures veth_direct(const VethBed& veth) {
  auto receiver = veth_receiver(veth, kVethDirectPort);
  return measure_stream(stream_address(kAddressB, kVethDirectPort), *receiver, veth.seconds, &veth.stop);
}

// Through a fresh engine in the client namespace, behind the nft redirect.
StreamFigures veth_proxied(const VethBed& veth, std::shared_ptr<agent::proxy::StreamFilterFactory> factory,
                           bool splice) {
  auto receiver = veth_receiver(veth, kVethProxiedPort);
  agent::proxy::ProxyEngineOptions options;
  options.factory = std::move(factory);
  options.splice_pass_through = splice;
  options.ipv6 = false;
  options.upstream_mark = agent::proxy::kProxySocketMark;
  options.network_namespace_fd = veth.client_namespace_fd;
  auto engine = start_metered_engine(std::move(options));
  if (!engine.ok()) throw std::runtime_error(engine.status().message());
  veth.table.install(engine->engine->port());
  StreamFigures figures =
      measure_through(*engine, stream_address(kAddressB, kVethProxiedPort), *receiver, veth.seconds, &veth.stop);
  veth.table.remove();
  // A stream that bypassed the proxy would be measured as proxied; one
  // whose connect failed delivered nothing at all.
  const agent::proxy::ProxyCounters& counters = engine->engine->counters();
  if (!veth.stop && figures.gib == 0) {
    throw std::runtime_error(std::string("the proxied stream delivered no bytes: the connect to ") + kAddressB + ":" +
                             std::to_string(kVethProxiedPort) + " failed (connections the proxy accepted: " +
                             std::to_string(counters.accepted.load()) + "; 1 means its upstream connect failed)");
  }
  if (!veth.stop && (counters.accepted.load() != 1 || counters.bytes_client_to_server.load() == 0)) {
    throw std::runtime_error("the stream did not go through the proxy (nft redirect not taken)");
  }
  return figures;
}

// A path's best round (by rate), whole; its ratio is to that round's direct.
nlohmann::json veth_path_json(const RoundFigures& figures) {
  return {{"mbit_per_s", figures.path.bytes_per_second * 8 / 1e6},
          {"ratio", figures.ratio()},
          {"cpu_s_per_gib", figures.path.cpu_seconds_per_gib},
          {"engine_cpu_s_per_gib", figures.path.engine_cpu_seconds_per_gib}};
}

nlohmann::json veth_rounds(const VethBed& veth, int rounds) {
  RoundFigures direct, passed, spliced, copied;
  for (int round = 0; round < rounds && !veth.stop; ++round) {
    const StreamFigures direct_now = veth_direct(veth);
    keep_best(direct, direct_now, direct_now);
    keep_best(passed, veth_proxied(veth, std::make_shared<PassThroughFactory>(), false), direct_now);
    keep_best(spliced, veth_proxied(veth, std::make_shared<PassThroughFactory>(), true), direct_now);
    keep_best(copied, veth_proxied(veth, std::make_shared<CopyingFactory>(), false), direct_now);
  }
  return {{"direct", veth_path_json(direct)},
          {"pass_through", veth_path_json(passed)},
          {"spliced", veth_path_json(spliced)},
          {"copied", veth_path_json(copied)}};
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"proxy_veth_bench: one TCP stream client namespace -> veth -> server namespace, direct vs through "
               "the tcp.* proxy behind its nft redirect (root)"};
  double seconds = 3;
  int rounds = 3;
  app.add_option("--seconds", seconds, "length of each stream")->check(CLI::Range(0.2, 60.0));
  app.add_option("--rounds", rounds, "streams per path (the round with the best rate is kept whole)")->check(CLI::Range(1, 20));
  CLI11_PARSE(app, argc, argv);
  nlohmann::json result = {{"benchmark", "proxy_veth"}, {"seconds", seconds}, {"rounds", rounds}};
  if (geteuid() != 0) {
    result["skipped"] = "needs root (network namespaces, nft)";
    emit(result);
    return 0;
  }
  const VethInterrupts interrupts;
  try {
    chaos::testing::NetworkTestBed bed("p");
    if (!bed.ok()) throw std::runtime_error("could not build the namespaces");
    const UniqueFd client_namespace(::open(("/run/netns/" + bed.a()).c_str(), O_RDONLY | O_CLOEXEC));
    if (!client_namespace.valid()) throw std::runtime_error("cannot open /run/netns/" + bed.a());
    chaos::testing::NamespaceEntry in_client(bed.a());
    ProcessCommandRunner commands;  // nft runs in the client namespace
    VethRedirectTable table(commands);
    const VethBed veth{bed, client_namespace.get(), table, seconds, interrupts.interrupted()};
    result["paths"] = veth_rounds(veth, rounds);
  } catch (const std::exception& error) {
    result["skipped"] = std::string("failed: ") + error.what();
  }
  if (interrupts.interrupted()) result["skipped"] = "interrupted";
  emit(result);
  return result.contains("skipped") ? 1 : 0;
}
