#include "agent/faults/dns/live_dns_fault.h"

#include <arpa/inet.h>

#include <random>
#include <thread>

#include "agent/faults/dns/dns_probe.h"
#include "agent/faults/dns/in_network_namespace.h"
#include "agent/faults/dns/own_socket.h"
#include "common/crash_point.h"

namespace chaos::agent::dns {

namespace {

using namespace std::chrono_literals;

// A faulty answer is sent at once; a second is generous on a loaded node.
constexpr std::chrono::milliseconds kAnswerWait = 1000ms;
// Timeout and delay modes: no answer may come within this bound. The proof
// is that the stub took the probe (only the redirect can bring it there);
// the wait only catches a stub that answers at once, which takes far less,
// and it is part of every such fault's time to effect.
constexpr std::chrono::milliseconds kSilenceWait = 25ms;
// How long the stub may take to count a datagram that already arrived.
constexpr std::chrono::milliseconds kCountWait = 500ms;

std::string counter_name(DnsFaultMode mode) {
  switch (mode) {
    case DnsFaultMode::kDelay: return "queries_delayed";
    case DnsFaultMode::kSpoof: return "queries_spoofed";
    default: return std::string("queries_") + dns_fault_mode_name(mode);
  }
}

std::string address_text(const sockaddr_storage& address) {
  char text[INET6_ADDRSTRLEN] = "?";
  if (address.ss_family == AF_INET) {
    const auto& v4 = reinterpret_cast<const sockaddr_in&>(address);
    ::inet_ntop(AF_INET, &v4.sin_addr, text, sizeof text);
    return std::string(text) + ":" + std::to_string(ntohs(v4.sin_port));
  }
  const auto& v6 = reinterpret_cast<const sockaddr_in6&>(address);
  ::inet_ntop(AF_INET6, &v6.sin6_addr, text, sizeof text);
  return "[" + std::string(text) + "]:" + std::to_string(ntohs(v6.sin6_port));
}

sockaddr_storage loopback_address(int family, std::uint16_t port) {
  sockaddr_storage address{};
  if (family == AF_INET) {
    auto& v4 = reinterpret_cast<sockaddr_in&>(address);
    v4.sin_family = AF_INET;
    v4.sin_port = htons(port);
    v4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  } else {
    auto& v6 = reinterpret_cast<sockaddr_in6&>(address);
    v6.sin6_family = AF_INET6;
    v6.sin6_port = htons(port);
    v6.sin6_addr = in6addr_loopback;
  }
  return address;
}

bool wait_for(const std::atomic<std::uint64_t>& counter, std::uint64_t above, std::chrono::milliseconds bound) {
  const auto deadline = std::chrono::steady_clock::now() + bound;
  while (counter.load() <= above) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

// exchange_probe() from inside the fault's network namespace: the probe
// must take the path a client's query takes there.
StatusOr<ProbeOutcome> probe_in(int network_namespace_fd, const sockaddr_storage& target, socklen_t target_length,
                                std::span<const std::uint8_t> query, std::chrono::milliseconds wait,
                                const std::function<void(const sockaddr_storage&)>& on_bound) {
  StatusOr<ProbeOutcome> outcome = unavailable("dns probe: not sent");
  CHAOS_RETURN_IF_ERROR(run_in_network_namespace(
      network_namespace_fd, [&] { outcome = exchange_probe(target, target_length, query, wait, on_bound); }));
  return outcome;
}

}  // namespace

LiveDnsFault::LiveDnsFault(CommandRunner& commands, LiveDnsFaultSetup setup,
                           std::unique_ptr<DnsStubResponder> responder,
                           std::shared_ptr<std::atomic<bool>> live_flag)
    : commands_(commands),
      setup_(std::move(setup)),
      responder_(std::move(responder)),
      live_flag_(std::move(live_flag)) {}

LiveDnsFault::~LiveDnsFault() { (void)revert(); }

std::string LiveDnsFault::detail() const {
  const ResponderCounters& counters = responder_->counters();
  return setup_.detail + "; " + std::to_string(counters.queries.load()) + " queries, " +
         std::to_string(counters.faulted.load()) + " faulted, " + std::to_string(counters.forwarded.load()) +
         " forwarded" +
         (counters.overflowed.load() > 0 ? ", " + std::to_string(counters.overflowed.load()) + " overflowed" : "");
}

nlohmann::json LiveDnsFault::undo_record() const {
  return {{"nft_family", "inet"}, {"nft_table", setup_.rules.table}, {"stub_port", responder_->port()}};
}

Status LiveDnsFault::revert() {
  std::lock_guard lock(revert_mutex_);
  if (reverted_) return {};
  // Redirect first: stopping the stub while the rule still points at it
  // would turn the fault into "connection refused" for a moment.
  CHAOS_RETURN_IF_ERROR(remove_redirect(commands_, setup_.rules.table));
  crash_point("dns: stop stub responder");
  responder_->stop();
  reverted_ = true;
  live_flag_->store(false);
  return {};
}

Status LiveDnsFault::on_tick(SteadyTime now) {
  (void)now;
  const std::string failure = responder_->failure();
  if (failure.empty()) return {};
  return aborted("engine_failed: dns stub responder: " + failure);
}

StatusOr<std::string> LiveDnsFault::check_redirect_in_place() {
  CHAOS_ASSIGN_OR_RETURN(const std::string listing, list_redirect_table(commands_, setup_.rules.table));
  CHAOS_RETURN_IF_ERROR(check_redirect_listing(listing, setup_.rules, setup_.client_resolver.family()));
  if (std::string failure = responder_->failure(); !failure.empty()) {
    return failed_precondition("dns stub responder on :" + std::to_string(responder_->port()) +
                               " has stopped: " + failure);
  }
  return "nft table inet " + setup_.rules.table + " redirects port 53 to the stub on :" +
         std::to_string(setup_.rules.stub_port);
}

FaultEffect LiveDnsFault::counters_effect() const {
  const ResponderCounters& counters = responder_->counters();
  FaultEffect effect;
  const std::uint64_t faulted = counters.faulted.load();
  effect.impaired = faulted > 0 || probe_verified_.load();
  effect.counters = {{counter_name(setup_.spec.mode), faulted},
                     {"queries_forwarded", counters.forwarded.load()},
                     {"queries_probe", counters.probes.load()}};
  return effect;
}

StatusOr<FaultEffect> LiveDnsFault::verify_live() {
  std::lock_guard probe_lock(probe_mutex_);
  CHAOS_ASSIGN_OR_RETURN(std::string evidence, check_redirect_in_place());
  const auto name = probe_name_for(setup_.spec);
  if (!name) {
    FaultEffect effect = counters_effect();
    effect.evidence = evidence + "; no probe: no pattern yields a concrete name, the read-back is the proof";
    return effect;
  }
  const std::uint16_t id = static_cast<std::uint16_t>(std::random_device{}());
  const std::uint16_t type = probe_type_for(setup_.spec);
  CHAOS_ASSIGN_OR_RETURN(const Bytes query, build_probe_query(id, *name, type));

  const ResponderCounters& counters = responder_->counters();
  const std::uint64_t probes_before = counters.probes.load();
  const std::uint64_t faulted_before = counters.probes_faulted.load();
  const bool answers = mode_answers_at_once(setup_.spec.mode);
  const std::string target = address_text(setup_.client_resolver.address);
  const std::string what = "probe " + *name + (type == kTypeA ? " A" : " AAAA") + " to " + target;
  // Only ever sent to the resolver address after the read-back showed the
  // redirect that takes it to the stub, which never forwards a probe.
  auto outcome = probe_in(setup_.network_namespace_fd, setup_.client_resolver.address,
                          setup_.client_resolver.address_length, query, answers ? kAnswerWait : kSilenceWait,
                          [this](const sockaddr_storage& source) { responder_->expect_probe(source); });
  const bool taken = wait_for(counters.probes, probes_before, outcome.ok() && outcome->reply ? 0ms : kCountWait);
  responder_->clear_probe();
  if (!outcome.ok()) return outcome.status();
  const bool faulted = counters.probes_faulted.load() > faulted_before;
  if (!taken) {
    return failed_precondition(what + " did not reach the stub on :" + std::to_string(responder_->port()) +
                               (outcome->refused.empty() ? "" : " (" + outcome->refused + ")") +
                               (outcome->reply ? "; something else answered it" : ""));
  }
  if (!faulted) return failed_precondition(what + ": the stub took it but would not fault it");
  if (answers) {
    if (!outcome->reply) {
      return failed_precondition(what + ": no answer within " + std::to_string(kAnswerWait.count()) + " ms" +
                                 (outcome->refused.empty() ? "" : " (" + outcome->refused + ")"));
    }
    if (std::string mismatch = faulty_answer_mismatch(setup_.spec, *outcome->reply, id, type); !mismatch.empty()) {
      return failed_precondition(what + ": not the faulty answer: " + mismatch);
    }
    evidence += "; " + what + " got the " + dns_fault_mode_name(setup_.spec.mode) + " answer from the stub";
  } else {
    if (outcome->reply) {
      return failed_precondition(what + ": answered within " + std::to_string(kSilenceWait.count()) + " ms: " +
                                 faulty_answer_mismatch(setup_.spec, *outcome->reply, id, type));
    }
    evidence += "; " + what + " taken by the stub, no answer within " + std::to_string(kSilenceWait.count()) +
                " ms";
  }
  probe_verified_ = true;
  FaultEffect effect = counters_effect();
  effect.evidence = std::move(evidence);
  return effect;
}

StatusOr<FaultEffect> LiveDnsFault::observe() {
  CHAOS_ASSIGN_OR_RETURN(std::string evidence, check_redirect_in_place());
  FaultEffect effect = counters_effect();
  const ResponderCounters& counters = responder_->counters();
  evidence += "; " + std::to_string(counters.faulted.load()) + " queries faulted, " +
              std::to_string(counters.forwarded.load()) + " forwarded";
  if (probe_verified_) evidence += ", probe answered faultily";
  if (!effect.impaired) evidence += " (armed, no matching query yet)";
  effect.evidence = std::move(evidence);
  return effect;
}

StatusOr<std::string> LiveDnsFault::verify_gone() {
  std::lock_guard probe_lock(probe_mutex_);
  const std::string& table = setup_.rules.table;
  CHAOS_ASSIGN_OR_RETURN(const bool listed, redirect_table_listed(commands_, table));
  if (listed) return failed_precondition("nft table inet " + table + " is still in the ruleset");
  const std::uint16_t port = setup_.rules.stub_port;
  // The stub's sockets are in the fault's namespace: so is the table that
  // lists them (/proc/thread-self/net of a thread there).
  std::string still_open;
  CHAOS_RETURN_IF_ERROR(run_in_network_namespace(setup_.network_namespace_fd, [&] {
    for (const int family : {AF_INET, AF_INET6}) {
      if (family == AF_INET6 && !responder_->listens_on_ipv6()) continue;
      const sockaddr_storage address = loopback_address(family, port);
      for (const bool tcp : {false, true}) {
        if (still_open.empty() && peer_is_own_socket(address, tcp)) {
          still_open = std::string("the stub's ") + (tcp ? "tcp" : "udp") + " socket on " + address_text(address) +
                       " is still open";
        }
      }
    }
  }));
  if (!still_open.empty()) return failed_precondition(still_open);
  std::string evidence = "nft table inet " + table + " absent from `nft list tables`; stub sockets on :" +
                         std::to_string(port) + " closed";
  // With the redirect gone, the resolver address would reach the real
  // upstream: the probe goes only to the stub's former address on loopback.
  const auto name = probe_name_for(setup_.spec);
  if (!name) return evidence + "; no probe: no pattern yields a concrete name";
  const std::uint16_t id = static_cast<std::uint16_t>(std::random_device{}());
  const std::uint16_t type = probe_type_for(setup_.spec);
  CHAOS_ASSIGN_OR_RETURN(const Bytes query, build_probe_query(id, *name, type));
  const sockaddr_storage former = loopback_address(AF_INET, port);
  CHAOS_ASSIGN_OR_RETURN(const ProbeOutcome outcome,
                         probe_in(setup_.network_namespace_fd, former, sizeof(sockaddr_in), query, kSilenceWait,
                                  [](const sockaddr_storage&) {}));
  if (outcome.reply && faulty_answer_mismatch(setup_.spec, *outcome.reply, id, type).empty() &&
      mode_answers_at_once(setup_.spec.mode)) {
    return failed_precondition("probe " + *name + " to " + address_text(former) + " still got the " +
                               dns_fault_mode_name(setup_.spec.mode) + " answer");
  }
  return evidence + "; probe " + *name + " to " + address_text(former) + ": " +
         (outcome.reply ? "answered, not faultily"
                        : (outcome.refused.empty() ? "no answer" : outcome.refused)) +
         " (no faulty answer; not sent to the upstream)";
}

}  // namespace chaos::agent::dns
