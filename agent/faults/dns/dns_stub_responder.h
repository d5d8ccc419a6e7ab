// The stub DNS server a live DNS fault redirects the node's queries to. It
// listens on 127.0.0.1 (and ::1 when the namespace has IPv6) on one free
// port for both udp and tcp, asks the QueryPolicy what to do with each
// query, and forwards everything the fault does not touch to the real
// upstream resolver.
//
// Threads, all started by start() and joined by stop():
// - one listener: reads datagrams, answers faulted ones at once, accepts
//   tcp connections, and queues the rest as tasks;
// - a fixed pool of workers (ResponderOptions::workers) running the tasks:
//   a forwarded udp query (upstream exchange), or a whole tcp connection;
// - one delayer, which holds forwarded udp answers until their delay has
//   passed, so a delay fault does not occupy a worker per query.
// Every queue is bounded. A query that finds the task queue (or the delay
// queue) full is DROPPED and counted in `overflowed`: no answer, exactly
// what a lost datagram looks like, which every DNS client retries. A
// SERVFAIL would instead tell the client that the name itself failed, also
// for names the fault does not target. An overflowing tcp connection is
// closed.
//
// In a container (ResponderOptions::network_namespace_fd) every socket and
// thread lives in the container's network namespace; a thread that cannot
// enter it stops at once and records the failure.
//
// Each thread's body catches everything: an exception logs, records the
// failure (failure()) and ends that thread; the live fault then reports
// "engine_failed" and the registry reverts it.
#pragma once

#include <sys/socket.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "agent/faults/dns/query_policy.h"
#include "agent/faults/dns/resolv_conf.h"
#include "agent/faults/dns/socket_io.h"
#include "agent/faults/dns/upstream_client.h"
#include "common/clock.h"

namespace chaos::agent::dns {

struct ResponderOptions {
  UpstreamResolver upstream;
  UpstreamOptions upstream_options;  // cancel_fd is set by the responder
  // Threads forwarding queries and serving tcp connections.
  std::size_t workers = 8;
  // Tasks waiting for a worker; more are dropped (see above).
  std::size_t max_queued = 128;
  // Forwarded udp answers waiting out a delay; more are dropped.
  std::size_t max_delayed = 256;
  std::chrono::milliseconds tcp_idle_timeout{10'000};
  // An open network namespace (a container's) the listeners are bound in
  // and every responder thread enters first, so upstream sockets and the
  // own-socket lookup in /proc/thread-self/net are the container's too; the
  // caller keeps it open while the responder runs. -1: the caller's own.
  int network_namespace_fd = -1;
  // True for a query that must bypass the fault (the agent's own lookups);
  // it is forwarded untouched. Empty: no query is exempt.
  std::function<bool(const sockaddr_storage& peer, bool tcp)> is_exempt_peer;
};

struct ResponderCounters {
  std::atomic<std::uint64_t> queries{0};
  std::atomic<std::uint64_t> faulted{0};
  // Forwarded untouched (a delayed query counts as faulted only).
  std::atomic<std::uint64_t> forwarded{0};
  std::atomic<std::uint64_t> upstream_errors{0};
  // Timeout mode's silence and unanswerable input.
  std::atomic<std::uint64_t> dropped{0};
  // Queries and connections dropped because a queue was full.
  std::atomic<std::uint64_t> overflowed{0};
  // The effect check's probe queries, never part of the counts above.
  std::atomic<std::uint64_t> probes{0};
  // Probes that got the fault's treatment (a faulty answer, silence, or an
  // answer that would have been held back).
  std::atomic<std::uint64_t> probes_faulted{0};
};

class DnsStubResponder {
 public:
  // Binds the sockets and starts the threads; fails if no port is free or
  // a thread cannot be started.
  static StatusOr<std::unique_ptr<DnsStubResponder>> start(std::shared_ptr<QueryPolicy> policy,
                                                           ResponderOptions options, Clock& clock);
  ~DnsStubResponder();
  DnsStubResponder(const DnsStubResponder&) = delete;
  DnsStubResponder& operator=(const DnsStubResponder&) = delete;

  std::uint16_t port() const { return port_; }
  bool listens_on_ipv6() const { return listens_on_ipv6_; }
  const ResponderCounters& counters() const { return counters_; }
  // Empty while every thread works; otherwise what stopped the first one.
  std::string failure() const;

  // Udp queries from `source` (a socket of this process) are the effect
  // check's probe until clear_probe(): never exempt as the agent's own,
  // never forwarded upstream, counted only in `probes`.
  void expect_probe(const sockaddr_storage& source);
  void clear_probe();

  // Stops listening, cancels upstream waits and delays, drops queued work
  // and joins every thread. Idempotent.
  void stop();

 private:
  struct DelayedAnswer {
    SteadyTime due;
    std::function<void()> send;
  };

  DnsStubResponder(std::shared_ptr<QueryPolicy> policy, ResponderOptions options, Clock& clock);
  Status start_threads();
  // Runs `body` on a new thread whose exceptions are caught and recorded.
  void launch(const char* name, std::function<void()> body);
  void record_failure(const std::string& what);
  void listen_loop();
  void worker_loop();
  void delay_loop();
  bool submit(std::function<void()> task);
  bool hold_answer(std::chrono::nanoseconds delay, std::function<void()> send);
  void serve_datagram(int fd);
  bool is_probe(const sockaddr_storage& peer) const;
  // The probe's plan without percent draw; a reply is the only thing sent.
  std::optional<Bytes> answer_probe(std::span<const std::uint8_t> query);
  void accept_connection(int fd);
  void serve_connection(UniqueFd connection, sockaddr_storage peer);
  QueryPlan plan_for(std::span<const std::uint8_t> query, const sockaddr_storage& peer, bool tcp);
  // Runs the plan for one query and returns the reply to send, if any.
  std::optional<Bytes> answer(std::span<const std::uint8_t> query, const sockaddr_storage& peer, bool tcp);
  std::optional<Bytes> forward(std::span<const std::uint8_t> query, bool tcp);
  bool hold_for(std::chrono::nanoseconds delay);

  std::shared_ptr<QueryPolicy> policy_;
  ResponderOptions options_;
  Clock& clock_;
  UniqueFd stop_event_;
  UniqueFd udp4_, tcp4_, udp6_, tcp6_;
  std::uint16_t port_ = 0;
  bool listens_on_ipv6_ = false;
  ResponderCounters counters_;

  // Set under tasks_mutex_ and delayed_mutex_ (so no waiter misses it),
  // read anywhere.
  std::atomic<bool> stopping_{false};
  std::mutex stop_mutex_;  // serialises stop()
  bool stopped_ = false;   // guarded by stop_mutex_

  std::mutex tasks_mutex_;
  std::condition_variable tasks_ready_;
  std::deque<std::function<void()>> tasks_;  // guarded by tasks_mutex_

  std::mutex delayed_mutex_;
  std::condition_variable delayed_ready_;
  std::deque<DelayedAnswer> delayed_;  // by due time; guarded by delayed_mutex_

  std::mutex threads_mutex_;
  std::condition_variable threads_done_;
  std::vector<std::thread> threads_;  // guarded by threads_mutex_
  std::size_t running_ = 0;           // threads not yet out of their body; guarded by threads_mutex_

  mutable std::mutex probe_mutex_;
  std::optional<sockaddr_storage> probe_source_;  // guarded by probe_mutex_

  mutable std::mutex failure_mutex_;
  std::string failure_;  // guarded by failure_mutex_
};

}  // namespace chaos::agent::dns
