// chaos-agent: the node agent. Serves the chaos.v1.Agent gRPC service and
// /metrics, reverts every fault when its time is up, and on SIGINT/SIGTERM
// reverts everything still live and exits 0.
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>
#include <malloc.h>

#include <CLI/CLI.hpp>
#include <csignal>
#include <iostream>
#include <memory>
#include <optional>
#include <string>

#include "agent/agent_config.h"
#include "agent/agent_metrics.h"
#include "agent/agent_service.h"
#include "agent/fault_journal.h"
#include "agent/fault_registry.h"
#include "agent/targets/container_finder.h"
#include "agent/targets/container_targeting_kind.h"
#include "agent/targets/runtime/runtime_container_finder.h"
#include "agent/leftover_tracker.h"
#include "agent/leftovers/agent_object_naming.h"
#include "agent/faults/container/container_fault_kinds.h"
#include "agent/faults/disk/disk_fault_kinds.h"
#include "agent/faults/dns/dns_fault_kinds.h"
#include "agent/faults/network/network_fault_kinds.h"
#include "agent/faults/process/process_fault_kinds.h"
#include "agent/faults/stress/agent_oom_guard.h"
#include "agent/faults/proxy/proxy_fault_plans.h"
#include "agent/faults/stress/stress_fault_kinds.h"
#include "agent/open_file_limit.h"
#include "agent/os_capabilities.h"
#include "agent/process_table.h"
#include "agent/security/audit_log.h"
#include "agent/security/bearer_token.h"
#include "agent/security/listen_policy.h"
#include "agent/security/request_auth.h"
#include "agent/security/server_credentials.h"
#include "agent/startup_memory.h"
#include "agent/state_dir_lock.h"
#include "agent/watchdog.h"
#include "common/abseil_lock_tracking.h"
#include "common/command_runner.h"
#include "common/loopback.h"
#include "common/version.h"
#include "common/worker_pool.h"
#include "common/host_port.h"
#include "metrics/metrics_server.h"
#include "metrics/registry.h"

namespace {

using namespace chaos;
using namespace chaos::agent;

// The watchdog sleeps until the registry's next deadline (a live fault's
// next on_tick is at most 100 ms away, FaultRegistryOptions::tick_interval),
// and an idle agent wakes once a second: enough for its liveness metric
// (chaos_agent_watchdog_last_tick_timestamp_seconds), at no measurable CPU.
constexpr auto kWatchdogHeartbeat = std::chrono::seconds(1);
constexpr auto kShutdownGrace = std::chrono::seconds(5);
// Requests are small (a fault spec); anything bigger is hostile or a bug.
constexpr int kMaxRequestBytes = 256 * 1024;
constexpr int kMaxConcurrentStreams = 64;
// gRPC's synchronous server runs each call on a thread of its own: bounded,
// so a flood of calls queues instead of growing the agent without limit.
constexpr int kMaxRpcThreads = 16;
// Reverts and on_ticks run here, off the watchdog thread, so one fault's
// hanging command cannot delay another fault's TTL or lease revert.
constexpr std::size_t kMaxRevertWorkers = 16;
// glibc gives each thread that allocates its own arena (up to 8 per core) and
// keeps their pages: engine, DNS and worker threads of short faults each
// left about 1 MiB behind. The agent's allocations are small and few per
// packet, so two arenas are plenty.
constexpr int kMaxMallocArenas = 2;

// Kinds whose capabilities this process lacks are not offered at all, so
// Capabilities tells chaosctl the truth before an experiment starts.
// Every kind is offered through ContainerTargetingKind, which gives the
// kinds that act in containers their FaultSpec.target.
void offer_kind(FaultRegistry& registry, std::unique_ptr<FaultKind> kind, std::uint64_t capability_mask,
                const AgentEnvironment& environment, ContainerFinder* containers) {
  const auto missing = missing_capabilities_for(kind->required_capabilities(), capability_mask);
  if (!missing.empty()) {
    std::string names;
    for (const auto& name : missing) names += " " + name;
    std::cerr << "chaos-agent: not offering " << kind->name() << ": needs" << names << "\n";
    return;
  }
  registry.add_kind(std::make_unique<ContainerTargetingKind>(std::move(kind), containers, *environment.commands));
}

// Every fault kind this agent offers, in one readable list.
void register_fault_kinds(FaultRegistry& registry, const AgentEnvironment& environment,
                          std::shared_ptr<const ProcessTargeting> targeting, ContainerFinder* containers,
                          const std::string& cgroup_root, std::shared_ptr<proxy::ProxyByteBudget> proxy_budget) {
  const std::uint64_t mask = effective_capability_mask();
  std::vector<std::unique_ptr<FaultKind>> kinds;
  for (auto& kind : make_process_fault_kinds(targeting)) kinds.push_back(std::move(kind));
  for (auto& kind : make_network_fault_kinds(environment)) kinds.push_back(std::move(kind));
  for (auto& kind : make_dns_fault_kinds(environment)) kinds.push_back(std::move(kind));
  for (auto& kind : make_stress_fault_kinds({targeting, cgroup_root.empty() ? "/sys/fs/cgroup" : cgroup_root}))
    kinds.push_back(std::move(kind));
  for (auto& kind : make_disk_fault_kinds(targeting, cgroup_root)) kinds.push_back(std::move(kind));
  ContainerPauseOptions pause_options;
  if (!cgroup_root.empty()) pause_options.cgroup_root = cgroup_root;
  for (auto& kind : make_container_fault_kinds(pause_options)) kinds.push_back(std::move(kind));
  proxy::ProxyFaultOptions proxy_options;
  proxy_options.budget = std::move(proxy_budget);
  for (auto& kind : proxy::make_proxy_fault_kinds(environment, proxy_options)) kinds.push_back(std::move(kind));
  for (auto& kind : kinds) offer_kind(registry, std::move(kind), mask, environment, containers);
}

int wait_for_termination_signal() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  int received = 0;
  sigwait(&signals, &received);
  return received;
}

void ignore_sigpipe() {
  // A child that exits before reading its stdin, or a peer that closes a
  // socket, must cost one write error, never the agent (and its faults'
  // reverts) itself.
  struct sigaction ignore {};
  ignore.sa_handler = SIG_IGN;
  sigemptyset(&ignore.sa_mask);
  sigaction(SIGPIPE, &ignore, nullptr);
}

void block_termination_signals() {
  // Before any thread starts, so every thread inherits the mask and
  // sigwait() is the only receiver.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
}

// The proxy needs up to six descriptors per connection (open_file_limit.h).
void raise_descriptor_budget() {
  const auto limit = raise_open_file_limit();
  if (!limit.ok()) {
    std::cerr << "chaos-agent: warning: open files limit not raised: " << limit.status().message() << "\n";
  } else if (limit->before != limit->after) {
    std::cerr << "chaos-agent: open files limit raised from " << limit->before << " to " << limit->after << "\n";
  } else {
    std::cerr << "chaos-agent: open files limit " << limit->after << "\n";
  }
}

void report_capabilities() {
  const std::uint64_t mask = effective_capability_mask();
  std::string held;
  for (const auto& name : relevant_capabilities(mask)) held += " " + name;
  std::cerr << "chaos-agent: capabilities:" << (held.empty() ? " none" : held) << "\n";
  const auto missing = missing_capabilities(mask);
  if (missing.empty()) return;
  std::string names;
  for (const auto& name : missing) names += " " + name;
  std::cerr << "chaos-agent: warning: running without" << names
            << "; fault kinds that need them are not offered\n";
}

struct Security {
  std::shared_ptr<grpc::ServerCredentials> credentials;
  std::unique_ptr<RequestAuthenticator> authenticator;
  std::unique_ptr<FileAuditSink> audit_file;
};

// Everything about who may talk to this agent, checked before it listens.
StatusOr<Security> prepare_security(const AgentConfig& config) {
  CHAOS_RETURN_IF_ERROR(
      check_plaintext_listen(config.listen, config.tls.enabled(), config.insecure_plaintext_on_non_loopback));
  Security security;
  CHAOS_ASSIGN_OR_RETURN(security.credentials, make_server_credentials(config.tls));
  std::optional<std::string> token;
  if (!config.token_file.empty()) {
    CHAOS_ASSIGN_OR_RETURN(token, load_token_file(config.token_file));
  }
  security.authenticator = std::make_unique<RequestAuthenticator>(std::move(token));
  CHAOS_ASSIGN_OR_RETURN(security.audit_file, FileAuditSink::open(config.state_dir + "/audit.log"));
  return security;
}

void announce_security(const AgentConfig& config, const Security& security) {
  if (config.tls.enabled()) {
    std::cerr << "chaos-agent: mTLS on: client certificates must chain to " << config.tls.client_ca << "\n";
  } else if (config.insecure_plaintext_on_non_loopback && !is_loopback_host(host_of_address(config.listen))) {
    std::cerr << "chaos-agent: WARNING: INSECURE: plaintext gRPC on non-loopback " << config.listen
              << " (--insecure-plaintext-on-non-loopback); anyone who reaches it can inject faults\n";
  } else {
    std::cerr << "chaos-agent: plaintext gRPC on loopback only\n";
  }
  if (security.authenticator->requires_token()) std::cerr << "chaos-agent: bearer token required\n";
  std::cerr << "chaos-agent: audit log " << config.state_dir << "/audit.log\n";
}

int fail(const std::string& message, int code = 1) {
  std::cerr << "chaos-agent: " << message << "\n";
  return code;
}

}  // namespace

int main(int argc, char** argv) {
  reexec_with_eager_binding(argv);  // see startup_memory.h
  mallopt(M_ARENA_MAX, kMaxMallocArenas);  // before any thread allocates
  skip_abseil_lock_order_tracking();
  CLI::App app{"chaos-agent: injects network, DNS and process faults on this node on command "
               "from chaosctl, and reverts every one of them when its time is up."};
  app.set_version_flag("--version", std::string("chaos-agent ") + kVersion);
  AgentFlagSet flags(app);
  CLI11_PARSE(app, argc, argv);
  auto config = flags.resolve();
  if (!config.ok()) return fail(config.status().message(), 2);
  auto grpc_address = split_host_port(config->listen, "--listen");
  if (!grpc_address.ok()) return fail(grpc_address.status().message(), 2);
  auto metrics_address = split_host_port(config->metrics_listen, "--metrics-listen");
  if (!metrics_address.ok()) return fail(metrics_address.status().message(), 2);
  auto protected_processes = ProtectedProcesses::compile(config->policy.protected_processes);
  if (!protected_processes.ok()) return fail(protected_processes.status().message(), 2);

  ignore_sigpipe();
  block_termination_signals();
  report_capabilities();
  raise_descriptor_budget();

  StateDirLock state_lock;
  if (Status locked = state_lock.acquire(config->state_dir); !locked.ok()) return fail(locked.message());
  auto security = prepare_security(*config);
  if (!security.ok()) return fail(security.status().message(), 2);
  announce_security(*config, *security);
  FileFaultJournal journal(config->state_dir);
  if (Status opened = journal.open(); !opened.ok()) return fail(opened.message());

  metrics::Registry metric_registry;
  metric_registry.gauge("chaos_agent_build_info", "Agent version; the value is always 1.", {"version"})
      .with({kVersion})
      .set(1);
  // How orchestrators that find agents through Prometheus's targets reach
  // this one (chaosctl [discovery] address_from = "metric"); set once the
  // gRPC port is bound (--listen may ask for any free port).
  metrics::GaugeFamily& agent_info = metric_registry.gauge(
      "chaos_agent_info", "The agent's gRPC address and node name; the value is always 1.", {"grpc_address", "node"});
  AgentMetrics agent_metrics(metric_registry, config->node_name);
  SystemClock clock;
  ProcProcessTable process_table;
  ProcessCommandRunner command_runner;
  WorkerPool revert_workers({kMaxRevertWorkers, 4096, std::chrono::seconds(10), [](const std::string& line) {
                               std::cerr << "chaos-agent: " << line << std::endl;
                             }});
  FaultRegistryOptions registry_options;
  registry_options.node_name = config->node_name;
  registry_options.policy = config->policy;
  registry_options.executor = &revert_workers;
  leftovers::CommandStateProbe state_probe(command_runner);
  LeftoverTracker leftover_tracker(state_probe, leftovers::agent_object_naming(), clock, agent_metrics);
  registry_options.leftovers = &leftover_tracker;
  // Container targets: only when the config names a runtime socket
  // ([containers]); without one a target is refused, saying so.
  // Declared before the registry: its kinds use it until the registry is gone.
  std::unique_ptr<RuntimeContainerFinder> runtime_finder;
  if (config->containers.any()) {
    runtime_finder = std::make_unique<RuntimeContainerFinder>(
        make_container_runtimes(config->containers.podman_socket, config->containers.docker_socket,
                                config->containers.containerd_socket));
  }
  ContainerFinder* container_finder = runtime_finder.get();
  FaultRegistry registry(clock, journal, agent_metrics, registry_options);

  metrics::MetricsServer metrics_server(metric_registry);
  if (Status started = metrics_server.start(metrics_address->first, metrics_address->second); !started.ok()) {
    return fail(started.message());
  }

  AuditTrail audit(
      *security->audit_file,
      [&agent_metrics](const std::string& rpc, const std::string& result) { agent_metrics.audit_event(rpc, result); },
      [&agent_metrics](const std::string& rpc) { agent_metrics.audit_record_lost(rpc); });
  AgentService service(registry,
                       {config->node_name, config->labels, relevant_capabilities(effective_capability_mask())},
                       {security->authenticator.get(), &audit});
  // Health stays open (read-only, no token) so probes work; no reflection,
  // channelz or other debug services are registered.
  grpc::EnableDefaultHealthCheckService(true);
  grpc::ServerBuilder builder;
  int grpc_port = 0;
  builder.AddListeningPort(config->listen, security->credentials, &grpc_port);
  // gRPC binds with SO_REUSEPORT by default: a second agent on the same
  // address would start and share the port with the first, and the kernel
  // would hand each new connection to either, so a revert could reach the
  // agent that never injected the fault. One address, one agent.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.SetMaxReceiveMessageSize(kMaxRequestBytes);
  builder.AddChannelArgument(GRPC_ARG_MAX_CONCURRENT_STREAMS, kMaxConcurrentStreams);
  grpc::ResourceQuota rpc_quota("chaos-agent");
  rpc_quota.SetMaxThreads(kMaxRpcThreads);
  builder.SetResourceQuota(rpc_quota);
  builder.RegisterService(&service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server || grpc_port == 0) {
    return fail("cannot listen for gRPC on " + config->listen +
                " (in use by another program or chaos-agent, or not an address of this host)");
  }
  const std::string& grpc_host = grpc_address->first;
  agent_info
      .with({(grpc_host.find(':') != std::string::npos ? "[" + grpc_host + "]" : grpc_host) + ":" +
                 std::to_string(grpc_port),
             config->node_name})
      .set(1);
  server->GetHealthCheckService()->SetServingStatus(false);

  if (const Status guarded = stress::protect_agent_from_oom_killer(); !guarded.ok()) {
    std::cerr << "chaos-agent: not protected from the OOM killer: " << guarded.message() << "\n";
  }
  AgentEnvironment environment;
  environment.protected_ports = {grpc_port, metrics_server.port()};
  environment.state_dir = config->state_dir;
  environment.commands = &command_runner;
  environment.clock = &clock;
  auto targeting = std::make_shared<ProcessTargeting>();
  targeting->table = &process_table;
  targeting->clock = &clock;
  targeting->protected_processes = *protected_processes;
  targeting->scope = config->process_scope;
  auto proxy_budget = std::make_shared<proxy::ProxyByteBudget>(config->proxy_max_buffered_bytes);
  agent_metrics.set_proxy_buffered(0, static_cast<double>(proxy_budget->limit()));
  register_fault_kinds(registry, environment, targeting, container_finder, config->containers.cgroup_root,
                       proxy_budget);

  // Leftovers of a previous run are reverted before any new request is taken.
  const StatusOr<int> recovered = registry.recover_from_journal();
  if (!recovered.ok()) return fail(recovered.status().message() + "; not serving: what a previous run left is unknown");
  Watchdog watchdog(
      clock, kWatchdogHeartbeat,
      [&registry, &agent_metrics, &clock, &proxy_budget] {
        const SteadyTime next = registry.tick();
        agent_metrics.set_proxy_buffered(static_cast<double>(proxy_budget->used()),
                                         static_cast<double>(proxy_budget->limit()));
        agent_metrics.tick_completed(std::chrono::duration<double>(clock.wall_now().time_since_epoch()).count());
        return next;
      },
      registry_options.tick_interval);
  watchdog.start();
  service.set_ready(true);
  server->GetHealthCheckService()->SetServingStatus(true);

  std::cerr << "chaos-agent " << kVersion << ": node " << config->node_name << ", state dir "
            << config->state_dir << ", process scope " << process_scope_name(config->process_scope)
            << ", recovered " << *recovered << " fault(s) from the journal\n";
  std::cerr << "chaos-agent: metrics listening on " << metrics_address->first << ":" << metrics_server.port()
            << std::endl;
  std::cerr << "chaos-agent: grpc listening on " << grpc_address->first << ":" << grpc_port << std::endl;
  // Start-up is over: what only it touched goes back (see startup_memory.h).
  if (const auto released = release_startup_memory(); released.ok()) {
    std::cerr << "chaos-agent: start-up memory released: RSS " << released->resident_kib_before / 1024 << " -> "
              << released->resident_kib_after / 1024 << " MiB" << std::endl;
  } else {
    std::cerr << "chaos-agent: warning: " << released.status().message() << std::endl;
  }

  const int signal_number = wait_for_termination_signal();
  std::cerr << "chaos-agent: received signal " << signal_number << ", reverting every live fault" << std::endl;
  server->GetHealthCheckService()->SetServingStatus(false);
  // Faults are reverted first: gRPC's Shutdown waits its whole grace period
  // while any client (chaosctl keeps its channels open) is connected, and a
  // SIGTERM must not leave a broker paused for those seconds. The registry
  // refuses new injects from here on. The watchdog stops before that, so
  // shutdown() is the last word on every fault rather than racing a tick.
  watchdog.stop();
  registry.shutdown();
  server->Shutdown(std::chrono::system_clock::now() + kShutdownGrace);
  revert_workers.stop();
  metrics_server.stop();
  std::cerr << "chaos-agent: stopped" << std::endl;
  return 0;
}
