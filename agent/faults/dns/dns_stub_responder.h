// The stub DNS server a live DNS fault redirects the node's queries to. It
// listens on 127.0.0.1 (and ::1 when the namespace has IPv6) on one free
// port for both udp and tcp, asks the QueryPolicy what to do with each
// query, and forwards everything the fault does not touch to the real
// upstream resolver. Threads: one listener loop, plus one short-lived thread
// per forwarded query or tcp connection, capped so a flood cannot exhaust
// the agent (excess queries are dropped; clients retry).
#pragma once

#include <sys/socket.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "agent/faults/dns/query_policy.h"
#include "agent/faults/dns/resolv_conf.h"
#include "agent/faults/dns/socket_io.h"
#include "agent/faults/dns/upstream_client.h"
#include "common/clock.h"

namespace chaos::agent::dns {

struct ResponderOptions {
  UpstreamResolver upstream;
  UpstreamOptions upstream_options;  // cancel_fd is set by the responder
  std::size_t max_in_flight = 128;
  std::chrono::milliseconds tcp_idle_timeout{10'000};
  // True for a query that must bypass the fault (the agent's own lookups);
  // it is forwarded untouched. Empty: no query is exempt.
  std::function<bool(const sockaddr_storage& peer, bool tcp)> is_exempt_peer;
};

struct ResponderCounters {
  std::atomic<std::uint64_t> queries{0};
  std::atomic<std::uint64_t> faulted{0};
  std::atomic<std::uint64_t> forwarded{0};
  std::atomic<std::uint64_t> upstream_errors{0};
  std::atomic<std::uint64_t> dropped{0};
};

class DnsStubResponder {
 public:
  // Binds the sockets and starts the listener; fails if no port is free.
  static StatusOr<std::unique_ptr<DnsStubResponder>> start(std::shared_ptr<QueryPolicy> policy,
                                                           ResponderOptions options, Clock& clock);
  ~DnsStubResponder();
  DnsStubResponder(const DnsStubResponder&) = delete;
  DnsStubResponder& operator=(const DnsStubResponder&) = delete;

  std::uint16_t port() const { return port_; }
  bool listens_on_ipv6() const { return listens_on_ipv6_; }
  const ResponderCounters& counters() const { return counters_; }

  // Stops listening, cancels upstream waits and delays, and joins every
  // thread. Idempotent.
  void stop();

 private:
  DnsStubResponder(std::shared_ptr<QueryPolicy> policy, ResponderOptions options, Clock& clock);
  void listen_loop();
  void serve_datagram(int fd);
  void accept_connection(int fd);
  void serve_connection(UniqueFd connection, sockaddr_storage peer);
  QueryPlan plan_for(std::span<const std::uint8_t> query, const sockaddr_storage& peer, bool tcp);
  // Runs the plan for one query and returns the reply to send, if any.
  std::optional<Bytes> answer(std::span<const std::uint8_t> query, const sockaddr_storage& peer, bool tcp);
  std::optional<Bytes> forward(std::span<const std::uint8_t> query, bool tcp);
  bool hold_for(std::chrono::nanoseconds delay);
  bool spawn(std::function<void()> work);

  std::shared_ptr<QueryPolicy> policy_;
  ResponderOptions options_;
  Clock& clock_;
  UniqueFd stop_event_;
  UniqueFd udp4_, tcp4_, udp6_, tcp6_;
  std::uint16_t port_ = 0;
  bool listens_on_ipv6_ = false;
  std::atomic<bool> stopping_{false};
  std::mutex stop_mutex_;
  std::thread listener_;
  std::mutex tasks_mutex_;
  std::condition_variable tasks_done_;
  std::size_t in_flight_ = 0;
  ResponderCounters counters_;
};

}  // namespace chaos::agent::dns
