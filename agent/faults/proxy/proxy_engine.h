// The transparent TCP proxy of one live tcp.* (or http.*, nats.*) fault: a
// listener the fault's nft table redirects new connections to, and one
// event thread (epoll, non-blocking sockets) that connects each to its
// original destination (SO_ORIGINAL_DST, IP6T_SO_ORIGINAL_DST for IPv6)
// with the exempt socket mark and
// runs the fault's StreamFilter over the bytes both ways.
//
// One thread per live fault, not one shared: a fault's revert stops and
// joins only its own thread (no lock shared with another fault's revert), a
// filter that misbehaves or a thread that fails ends one fault, and the
// number of proxy faults alive at once is small.
//
// Bounds: at most `max_connections` proxied at once (more are reset at
// accept and counted), and per direction at most `max_queued_bytes` held
// or unwritten: over it the engine stops reading the sending side (TCP
// backpressure) until half of it is written. A direction whose filter
// passes it through untouched (StreamFilter::passes_through) is sent from
// the read buffer without the filter; with splice_pass_through it is
// relayed with splice() through a pipe of at most min(256 KiB,
// max_queued_bytes): no copy to user space, the same backpressure (a full pipe stops
// the reads), the same FIN and RST propagation; it goes back to copying
// for an urgent byte (splice() stops at the urgent mark). A connection
// holds up to six descriptors; pipes are taken only while the process is
// well below its open-files limit, and a listener that cannot accept for
// want of descriptors rests 100 ms instead of spinning.
//
// Across the agent, what every connection of every proxy fault holds
// (queued, and held back by its filter) is charged to one ProxyByteBudget.
// While it is used up, a connection with bytes still queued in a direction
// is not read in that direction until they are written, nor is one whose
// filter holds more than kProxyHeldWhileOverBudget (16 KiB of a partial
// message); the budget is checked again every 50 ms (other faults'
// connections free it without waking this thread) and right after this
// engine's due bytes free some. The others are read in steps of 16 KiB, and
// so is everyone while someone waits. A direction that waits with only a
// partial message has its filter stop holding (a nats.* filter then passes
// its connection through) when nothing is queued anywhere (partial
// messages alone fill the budget and cannot complete), or after
// budget_wait_for_partial_message (a consumer that never reads keeps its
// bytes queued for good). No read is larger than the room left, so the
// budget is exceeded by at most about 32 KiB per connection and direction
// (an http.* head may be held whole: 80 KiB), and by what other faults'
// threads read in the same instant. It counts bytes, not the capacity of
// the buffers holding them (up to about twice as much).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "agent/faults/proxy/proxy_byte_budget.h"
#include "agent/faults/proxy/stream_filter.h"
#include "common/status.h"
#include "common/unique_fd.h"

namespace chaos::agent::proxy {

struct ProxyEngineOptions {
  std::shared_ptr<StreamFilterFactory> factory;
  // 127.0.0.1 and ::1 when false; 0.0.0.0 and :: when connections
  // redirected in nat prerouting must reach it (they arrive on the
  // interface's address).
  bool listen_on_all_addresses = false;
  // An IPv6 listener on the same port beside the IPv4 one; a namespace
  // without IPv6 gets the IPv4 listener alone (listens_ipv6() says which).
  bool ipv6 = true;
  // 0 leaves the upstream sockets unmarked (tests without CAP_NET_ADMIN).
  std::uint32_t upstream_mark = 0;
  // The network namespace the listener, the upstream sockets and the
  // event thread live in; -1: the namespace of the thread calling start().
  int network_namespace_fd = -1;
  std::size_t max_connections = 1024;
  std::size_t max_queued_bytes = 1 << 20;
  // The agent's budget, shared by all its proxy engines; null: none (tests).
  std::shared_ptr<ProxyByteBudget> budget;
  // How long a direction whose filter holds a partial message waits for
  // room in the budget before its filter is asked to stop holding.
  Duration budget_wait_for_partial_message = std::chrono::seconds(5);
  // Relay a direction its filter passes through untouched with splice()
  // instead of recv()/send(). Off: on the 2-core development VM (loopback,
  // proxy_bench, quiet machine) the copying path carried 15% more and cost
  // the whole process 10% less CPU per GiB; splice() only saved the event
  // thread 8%. Kept for hosts where that thread is the bottleneck, and
  // measured side by side in every proxy_bench run.
  bool splice_pass_through = false;
  // Tests only: connect every accepted connection here instead of its
  // SO_ORIGINAL_DST (a proxy without an nft redirect in front of it).
  std::string fixed_upstream;  // "127.0.0.1:4222", "[::1]:4222"
};

// What the listeners got: their one port, and whether IPv6 is served.
struct ProxyListening {
  std::uint16_t port = 0;
  bool ipv6 = false;
};

struct ProxyCounters {
  std::atomic<std::uint64_t> accepted{0};
  std::atomic<std::uint64_t> active{0};
  std::atomic<std::uint64_t> refused_over_limit{0};
  std::atomic<std::uint64_t> not_redirected{0};  // no original destination
  std::atomic<std::uint64_t> upstream_failed{0};
  std::atomic<std::uint64_t> bytes_client_to_server{0};  // written upstream
  std::atomic<std::uint64_t> bytes_server_to_client{0};  // written to clients
  std::atomic<std::uint64_t> resets{0};                  // RST by a filter
  std::atomic<std::uint64_t> closes{0};                  // FIN by a filter
  std::atomic<std::uint64_t> filter_errors{0};           // a filter threw
  // Directions relayed inside the kernel (splice(), no copy) because their
  // filter passes them through untouched.
  std::atomic<std::uint64_t> spliced_directions{0};
  // A direction not read for a while because the agent's proxy byte budget
  // was used up, and connections passed through because their filter held
  // more than it may then.
  std::atomic<std::uint64_t> budget_pauses{0};
  std::atomic<std::uint64_t> budget_pass_throughs{0};
  // Turns of the event loop that found something to do. An engine with
  // nothing to relay does not turn: tests tell a busy loop by this count,
  // not by CPU time, which depends on what else the machine runs.
  std::atomic<std::uint64_t> event_wakeups{0};
};

class ProxyEngine {
 public:
  // Listener bound and the event thread running, or an error and nothing.
  static StatusOr<std::unique_ptr<ProxyEngine>> start(ProxyEngineOptions options);
  ~ProxyEngine();
  ProxyEngine(const ProxyEngine&) = delete;
  ProxyEngine& operator=(const ProxyEngine&) = delete;

  std::uint16_t port() const { return port_; }
  // Whether an IPv6 listener runs beside the IPv4 one (on port()).
  bool listens_ipv6() const { return listens_ipv6_; }
  // Closes the listener and every proxied connection (each side sees FIN,
  // or RST where it had sent bytes the proxy had not read), then joins the
  // thread. Idempotent.
  void stop();
  bool stopped() const { return stopped_.load(); }
  const ProxyCounters& counters() const { return *counters_; }
  // Empty while the event thread runs well; why it ended otherwise.
  std::string failure() const;

 private:
  struct Shared;
  ProxyEngine() = default;

  std::shared_ptr<Shared> shared_;
  std::shared_ptr<ProxyCounters> counters_;
  std::thread thread_;
  std::uint16_t port_ = 0;
  bool listens_ipv6_ = false;
  UniqueFd wake_fd_;  // eventfd: stop() wakes the loop
  std::mutex stop_mutex_;
  std::atomic<bool> stopped_{false};
};

}  // namespace chaos::agent::proxy
