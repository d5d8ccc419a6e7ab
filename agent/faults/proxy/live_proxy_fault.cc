#include "agent/faults/proxy/live_proxy_fault.h"

#include <fstream>
#include <sstream>

#include "agent/faults/dns/dns_redirect_rules.h"
#include "agent/faults/dns/in_network_namespace.h"
#include "common/crash_point.h"

namespace chaos::agent::proxy {

namespace {

// /proc/net/tcp of a busy node is long; the listener is near the top (the
// kernel lists listening sockets first), so a bounded read suffices.
constexpr std::size_t kLiveTcpMaxProcBytes = 4 * 1024 * 1024;

// `table`: "tcp" or "tcp6".
StatusOr<std::string> read_own_tcp_table(int network_namespace_fd, const std::string& table) {
  std::string text;
  bool read = false;
  CHAOS_RETURN_IF_ERROR(dns::run_in_network_namespace(network_namespace_fd, [&] {
    std::ifstream file("/proc/thread-self/net/" + table);
    if (!file) return;
    text.resize(kLiveTcpMaxProcBytes);
    file.read(text.data(), static_cast<std::streamsize>(text.size()));
    text.resize(static_cast<std::size_t>(file.gcount()));
    read = true;
  }));
  if (!read) return unavailable("cannot read /proc/thread-self/net/" + table);
  return text;
}

}  // namespace

bool tcp_table_lists_listener(std::string_view proc_net_tcp, std::uint16_t port) {
  char wanted[8];
  std::snprintf(wanted, sizeof wanted, ":%04X", port);
  std::istringstream lines{std::string(proc_net_tcp)};
  for (std::string line; std::getline(lines, line);) {
    // "  0: 0100007F:9C40 00000000:0000 0A ..." : local address, remote, state.
    std::istringstream fields(line);
    std::string slot, local, remote, state;
    if (!(fields >> slot >> local >> remote >> state)) continue;
    if (state == "0A" && local.size() > 5 && local.compare(local.size() - 5, 5, wanted) == 0) return true;
  }
  return false;
}

LiveProxyFault::LiveProxyFault(CommandRunner& commands, LiveProxyFaultSetup setup,
                               std::unique_ptr<ProxyEngine> engine, std::shared_ptr<std::atomic<bool>> claim)
    : commands_(commands),
      setup_(std::move(setup)),
      engine_(std::move(engine)),
      claim_(std::move(claim)) {}

LiveProxyFault::~LiveProxyFault() { (void)revert(); }

std::string LiveProxyFault::summary(const ProxyFaultReport& report) const {
  const ProxyCounters& counters = engine_->counters();
  std::string text = std::to_string(counters.accepted.load()) + " connections proxied, " +
                     std::to_string(report.faulted_connections) + " faulted" +
                     (report.note.empty() ? "" : "; " + report.note);
  // The fault did less than asked: say so where the user reads its state.
  const std::uint64_t pauses = counters.budget_pauses.load();
  const std::uint64_t passed = counters.budget_pass_throughs.load();
  if (pauses > 0 || passed > 0) {
    text += "; the agent's proxy byte budget ([proxy] max_buffered_bytes) was used up: " + std::to_string(pauses) +
            " pauses of a sender, " + std::to_string(passed) + " connections passed through";
  }
  return text;
}

std::string LiveProxyFault::detail() const { return setup_.description + "; " + summary(setup_.report()); }

nlohmann::json LiveProxyFault::undo_record() const {
  return {{"nft_family", "inet"}, {"nft_table", setup_.rules.table}, {"proxy_port", engine_->port()}};
}

Status LiveProxyFault::revert() {
  std::lock_guard lock(revert_mutex_);
  if (reverted_) return {};
  // The redirect first: stopping the proxy while the table still points at
  // it would refuse new connections for a moment.
  CHAOS_RETURN_IF_ERROR(dns::remove_redirect(commands_, setup_.rules.table));
  crash_point("tcp: stop proxy");
  engine_->stop();
  reverted_ = true;
  claim_->store(false);
  return {};
}

Status LiveProxyFault::on_tick(SteadyTime now) {
  (void)now;
  const std::string failure = engine_->failure();
  if (failure.empty()) return {};
  return aborted("engine_failed: " + failure);
}

StatusOr<LiveProxyFault::Listeners> LiveProxyFault::proxy_listeners() const {
  Listeners listeners;
  CHAOS_ASSIGN_OR_RETURN(const std::string table, read_own_tcp_table(setup_.network_namespace_fd, "tcp"));
  listeners.ipv4 = tcp_table_lists_listener(table, engine_->port());
  if (!setup_.rules.ipv6) return listeners;
  // /proc/net/tcp6 has the same columns, with 32-digit addresses.
  CHAOS_ASSIGN_OR_RETURN(const std::string table6, read_own_tcp_table(setup_.network_namespace_fd, "tcp6"));
  listeners.ipv6 = tcp_table_lists_listener(table6, engine_->port());
  return listeners;
}

FaultEffect LiveProxyFault::counters_effect(const ProxyFaultReport& report) const {
  const ProxyCounters& counters = engine_->counters();
  FaultEffect effect;
  effect.impaired = report.impaired;
  effect.counters = {{"connections_proxied", counters.accepted.load()},
                     {"connections_faulted", report.faulted_connections},
                     {"connections_active", counters.active.load()},
                     {"bytes_client_to_server", counters.bytes_client_to_server.load()},
                     {"bytes_server_to_client", counters.bytes_server_to_client.load()},
                     {"connections_reset", counters.resets.load()},
                     {"connections_closed", counters.closes.load()},
                     {"connections_refused", counters.refused_over_limit.load() + counters.upstream_failed.load()},
                     {"filter_errors", counters.filter_errors.load()},
                     {"directions_spliced", counters.spliced_directions.load()},
                     {"budget_pauses", counters.budget_pauses.load()},
                     {"budget_pass_throughs", counters.budget_pass_throughs.load()}};
  effect.counters.insert(effect.counters.end(), report.counters.begin(), report.counters.end());
  return effect;
}

StatusOr<FaultEffect> LiveProxyFault::verify_live() {
  const std::string& table = setup_.rules.table;
  CHAOS_ASSIGN_OR_RETURN(const std::string listing, dns::list_redirect_table(commands_, table));
  CHAOS_RETURN_IF_ERROR(check_proxy_listing(listing, setup_.rules));
  if (std::string failure = engine_->failure(); !failure.empty() || engine_->stopped()) {
    return failed_precondition("the proxy on :" + std::to_string(engine_->port()) + " has stopped" +
                               (failure.empty() ? "" : ": " + failure));
  }
  // Live needs every listener the rules redirect to.
  CHAOS_ASSIGN_OR_RETURN(const Listeners listeners, proxy_listeners());
  if (!listeners.ipv4 || (setup_.rules.ipv6 && !listeners.ipv6)) {
    return failed_precondition("no socket listens on the proxy's port " + std::to_string(engine_->port()) +
                               (setup_.rules.ipv6 ? " (/proc/net/tcp, tcp6)" : " (/proc/net/tcp)"));
  }
  const ProxyFaultReport report = setup_.report();
  FaultEffect effect = counters_effect(report);
  effect.evidence = "nft table inet " + table + " redirects tcp port " + std::to_string(setup_.rules.port) +
                    " to the proxy listening on :" + std::to_string(engine_->port()) + "; " + summary(report) +
                    (effect.impaired                   ? ""
                     : report.faulted_connections == 0 ? " (armed, no new connection yet)"
                                                       : " (armed, nothing matched yet)");
  return effect;
}

StatusOr<std::string> LiveProxyFault::verify_gone() {
  const std::string& table = setup_.rules.table;
  CHAOS_ASSIGN_OR_RETURN(const bool listed, dns::redirect_table_listed(commands_, table));
  if (listed) return failed_precondition("nft table inet " + table + " is still in the ruleset");
  // Gone needs none of them: a leftover IPv6 listener counts as much as
  // an IPv4 one.
  CHAOS_ASSIGN_OR_RETURN(const Listeners listeners, proxy_listeners());
  if (listeners.ipv4 || listeners.ipv6) {
    return failed_precondition("a socket still listens on the proxy's port " + std::to_string(engine_->port()) +
                               (listeners.ipv4 ? " (/proc/net/tcp)" : " (/proc/net/tcp6)"));
  }
  return "nft table inet " + table + " absent from `nft list tables`; nothing listens on the proxy's port " +
         std::to_string(engine_->port());
}

}  // namespace chaos::agent::proxy
