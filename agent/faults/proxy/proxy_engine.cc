#include "agent/faults/proxy/proxy_engine.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <exception>
#include <functional>
#include <future>
#include <map>
#include <optional>
#include <queue>
#include <system_error>
#include <utility>
#include <vector>

#include "agent/faults/proxy/direction_queue.h"
#include "agent/faults/proxy/socket_address.h"
#include "agent/faults/proxy/splice_pipe.h"
#include "agent/targets/namespaces/namespace_handle.h"
#include "common/thread_name.h"

namespace chaos::agent::proxy {

namespace {

// 256 KiB rather than 64: fewer recv() and filter calls per megabyte; it
// measured about 7% less CPU per GiB on the copying path (bench/README.md).
constexpr std::size_t kProxyReadChunkBytes = 256 * 1024;
// A spliced direction's pipe: as large as this (fewer splice() calls per
// megabyte) but never over the engine's per-direction byte bound.
constexpr std::size_t kProxyPipeBytes = 256 * 1024;
// Reads per readiness event and side, so one busy connection cannot starve
// the others on the same thread.
constexpr int kProxyReadsPerEvent = 4;
constexpr int kProxyListenBacklog = 256;
// A side is not read while its direction holds more chunks than this (a
// filter that cuts the stream into small delayed segments).
constexpr std::size_t kProxyMaxHeldChunks = 4096;
constexpr int kProxyMaxEvents = 64;
constexpr int kProxyIdleWaitMs = 1000;
// epoll data: these three, or (connection id << 1) | side with ids from 2.
constexpr std::uint64_t kProxyListenerKey = 0;
constexpr std::uint64_t kProxyWakeKey = 1;
constexpr std::uint64_t kProxyListener6Key = 2;
constexpr std::uint64_t kProxyFirstConnectionId = 2;
// Ports to try for a listener pair: the IPv4 listener's ephemeral port may
// be taken on IPv6 by another socket.
constexpr int kProxyListenAttempts = 8;
constexpr int kProxyClientSide = 0;
constexpr int kProxyServerSide = 1;
// accept4() out of descriptors (EMFILE, ENFILE) leaves the connection in
// the backlog and the listener readable: the listeners rest this long
// instead of spinning, then try again.
constexpr auto kProxyAcceptPause = std::chrono::milliseconds(100);
// How often a direction paused for the agent's byte budget looks at it
// again (other faults' connections free it without waking this thread).
constexpr auto kProxyBudgetRecheck = std::chrono::milliseconds(50);
// A read while the budget is used up: small, so a connection with nothing
// queued still moves without adding much.
constexpr std::size_t kProxyReadWhileOverBudget = 16 * 1024;

// Whether a read of `fd` stands at TCP's urgent mark: splice() (the
// kernel's tcp_read_sock) stops there and returns EAGAIN, or 0 after the
// peer's FIN, while bytes after the mark are still queued; recv() steps
// over the urgent byte.
bool proxy_at_urgent_mark(int fd) {
  int at_mark = 0;
  return ::ioctl(fd, SIOCATMARK, &at_mark) == 0 && at_mark != 0;
}

bool proxy_bytes_unread(int fd) {
  int unread = 0;
  return ::ioctl(fd, FIONREAD, &unread) == 0 && unread > 0;
}

// RST instead of FIN: SO_LINGER with a zero timeout, then close.
void reset_socket(UniqueFd& fd) {
  if (!fd.valid()) return;
  const linger abortive{1, 0};
  ::setsockopt(fd.get(), SOL_SOCKET, SO_LINGER, &abortive, sizeof abortive);
  fd.reset();
}

struct ProxySide {
  UniqueFd fd;
  bool eof = false;         // read EOF
  bool write_shut = false;  // we sent FIN
  bool paused = false;      // not read: its direction's queue is full, or the agent's budget used up
  bool no_delay = false;    // TCP_NODELAY set (segments written one by one)
  // In the epoll set. A side at EOF that we have shut our write to is
  // removed: epoll reports EPOLLHUP for it on every wait, whatever its
  // mask, while the other direction may still be writing to a slow reader.
  bool watched = true;
  // Out of the epoll set for now: we shut our write to it and do not read
  // it (paused, closing), so it has nothing to report but the EPOLLHUP its
  // peer's FIN brings on every wait.
  bool parked = false;
  std::uint32_t events = 0;
};

// Direction index d reads side d and writes side 1 - d (client to server
// reads the client side).
struct ProxyConnection {
  explicit ProxyConnection(std::shared_ptr<ProxyByteBudget> budget) : charge(std::move(budget)) {}
  std::uint64_t id = 0;
  ProxySide sides[2];
  bool connecting = true;
  std::unique_ptr<StreamFilter> filter;
  DirectionQueue queues[2];
  // Per direction: set once the filter passes it through and its queue is
  // empty; its bytes then go source -> pipe -> target (splice), and the
  // queue only carries what on_end() or a reply still emits, after the
  // pipe's bytes.
  std::optional<SplicePipe> pipes[2];
  // Per direction: stays on the copying path (no pipe could be had, or an
  // urgent byte stopped splice()); a pipe still held is drained, then
  // dropped, before the source is read again.
  bool no_splice[2] = {false, false};
  std::optional<SteadyTime> close_at;
  // Per direction: the source's FIN is not forwarded before this.
  std::optional<SteadyTime> end_at[2];
  CloseAction pending_close = CloseAction::kNone;
  bool closing = false;  // FIN both ways once the queues are written
  std::optional<SteadyTime> timer;  // the earliest scheduled wake-up
  // What it holds (both queues and the filter's held bytes), in the
  // agent's budget; given back when the connection is destroyed.
  ProxyByteCharge charge;
  bool waits_for_budget = false;  // listed in ProxyLoop::budget_waiting_
  // Per direction: since when it has waited for room with nothing of its
  // own queued (its filter holds a partial message).
  std::optional<SteadyTime> held_wait_since[2];
};

Direction proxy_direction_of(int index) { return index == 0 ? Direction::kClientToServer : Direction::kServerToClient; }

}  // namespace

struct ProxyEngine::Shared {
  std::mutex mutex;
  std::string failure;  // guarded by mutex
};

namespace {

class ProxyLoop {
 public:
  ProxyLoop(ProxyEngineOptions options, ProxyCounters& counters, int wake_fd)
      : options_(std::move(options)), counters_(counters), wake_fd_(wake_fd) {}

  // Listeners and epoll; the port they got.
  StatusOr<ProxyListening> open() {
    if (!options_.fixed_upstream.empty()) {
      CHAOS_ASSIGN_OR_RETURN(fixed_upstream_, parse_socket_address(options_.fixed_upstream, "proxy: fixed upstream"));
    }
    epoll_ = UniqueFd(::epoll_create1(EPOLL_CLOEXEC));
    if (!epoll_.valid()) return internal_error(std::string("proxy: epoll_create1: ") + std::strerror(errno));
    for (int attempt = 0;; ++attempt) {
      int error = 0;
      CHAOS_ASSIGN_OR_RETURN(listener_, open_listener(AF_INET, 0, error));
      // The same port on IPv6: nft's redirect keeps the port for both families.
      auto listener6 =
          options_.ipv6 ? open_listener(AF_INET6, own_address_[0].port(), error) : StatusOr<UniqueFd>(UniqueFd());
      if (listener6.ok()) {
        listener6_ = std::move(*listener6);
        break;
      }
      // EADDRINUSE: the port is taken on IPv6; another pair. Without IPv6
      // in the namespace (no ::1 or :: to bind, or no IPv6 at all), the
      // proxy serves IPv4 only and says so; any other error is real.
      if (error == EADDRNOTAVAIL || error == EAFNOSUPPORT) break;
      if (error != EADDRINUSE || attempt + 1 == kProxyListenAttempts) return listener6.status();
    }
    if (!watch(listener_.get(), kProxyListenerKey, EPOLLIN) || !watch(wake_fd_, kProxyWakeKey, EPOLLIN) ||
        (listener6_.valid() && !watch(listener6_.get(), kProxyListener6Key, EPOLLIN))) {
      return internal_error(std::string("proxy: epoll_ctl: ") + std::strerror(errno));
    }
    return ProxyListening{own_address_[0].port(), listener6_.valid()};
  }

  // Until the wake fd is written; throws only what the caller records.
  void run() {
    epoll_event events[kProxyMaxEvents];
    std::vector<std::uint64_t> touched;
    while (!stopping_) {
      const int ready = ::epoll_wait(epoll_.get(), events, kProxyMaxEvents, wait_ms());
      if (ready < 0) {
        if (errno == EINTR) continue;
        throw std::system_error(errno, std::generic_category(), "epoll_wait");
      }
      if (ready > 0) counters_.event_wakeups.fetch_add(1, std::memory_order_relaxed);
      for (int i = 0; i < ready; ++i) {
        const std::uint64_t key = events[i].data.u64;
        if (key == kProxyWakeKey) {
          stopping_ = true;
        } else if (key == kProxyListenerKey) {
          accept_all(listener_.get(), AF_INET);
        } else if (key == kProxyListener6Key) {
          accept_all(listener6_.get(), AF_INET6);
        } else {
          on_socket_event(key >> 1, static_cast<int>(key & 1), events[i].events);
        }
      }
      run_due_timers();
    }
  }

 private:
  // 127.0.0.1 / ::1, or 0.0.0.0 / :: (IPv6 only: the IPv4 listener takes
  // IPv4); `error` gets the errno of a failure.
  StatusOr<UniqueFd> open_listener(int family, std::uint16_t port, int& error) {
    const bool all = options_.listen_on_all_addresses;
    const auto address =
        socket_address_of(family, family == AF_INET ? (all ? "0.0.0.0" : "127.0.0.1") : (all ? "::" : "::1"), port);
    UniqueFd listener(::socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!listener.valid()) {
      error = errno;
      return internal_error(std::string("proxy: socket: ") + std::strerror(error));
    }
    const int one = 1;
    ::setsockopt(listener.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (family == AF_INET6) ::setsockopt(listener.get(), IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    if (::bind(listener.get(), address->get(), address->length()) != 0 ||
        ::listen(listener.get(), kProxyListenBacklog) != 0) {
      error = errno;
      return internal_error("proxy: bind/listen " + socket_address_text(*address) + ": " + std::strerror(error));
    }
    SocketAddress& own = own_address_[family == AF_INET ? 0 : 1];
    socklen_t length = sizeof own.storage;
    ::getsockname(listener.get(), own.get(), &length);
    return listener;
  }

  // Both listeners' epoll entries: `events` 0 rests them.
  void watch_listeners(int operation, std::uint32_t events) {
    epoll_event event{};
    event.events = events;
    event.data.u64 = kProxyListenerKey;
    ::epoll_ctl(epoll_.get(), operation, listener_.get(), &event);
    if (!listener6_.valid()) return;
    event.data.u64 = kProxyListener6Key;
    ::epoll_ctl(epoll_.get(), operation, listener6_.get(), &event);
  }

  bool watch(int fd, std::uint64_t key, std::uint32_t events) {
    epoll_event event{};
    event.events = events;
    event.data.u64 = key;
    return ::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &event) == 0;
  }

  int wait_ms() const {
    std::optional<SteadyTime> first = accept_resume_at_;
    if (budget_recheck_at_ && (!first || *budget_recheck_at_ < *first)) first = budget_recheck_at_;
    if (!timers_.empty() && (!first || timers_.top().first < *first)) first = timers_.top().first;
    if (!first) return kProxyIdleWaitMs;
    const auto left = *first - std::chrono::steady_clock::now();
    if (left <= Duration{0}) return 0;
    // Rounded up: waking early only costs a spurious loop.
    const auto ms = std::chrono::ceil<std::chrono::milliseconds>(left).count();
    return static_cast<int>(std::min<long long>(ms, kProxyIdleWaitMs));
  }

  void run_due_timers() {
    const SteadyTime now = std::chrono::steady_clock::now();
    if (accept_resume_at_ && *accept_resume_at_ <= now) {
      accept_resume_at_.reset();
      watch_listeners(EPOLL_CTL_MOD, EPOLLIN);
    }
    while (!timers_.empty() && timers_.top().first <= now) {
      const std::uint64_t id = timers_.top().second;
      timers_.pop();
      auto found = connections_.find(id);
      if (found == connections_.end()) continue;
      found->second->timer.reset();
      pump(*found->second, now);
    }
    // After the timers: what their due bytes freed goes to the waiting
    // directions in this turn, before the connections that freed it read.
    if (budget_recheck_at_ && *budget_recheck_at_ <= now) {
      budget_recheck_at_.reset();
      // pump() puts back the ones still paused (and the recheck with them).
      const std::vector<std::uint64_t> waiting = std::exchange(budget_waiting_, {});
      for (const std::uint64_t id : waiting) {
        auto found = connections_.find(id);
        if (found == connections_.end()) continue;
        found->second->waits_for_budget = false;
        pump(*found->second, now);
      }
    }
  }

  void accept_all(int listener, int family) {
    for (;;) {
      SocketAddress peer;
      socklen_t peer_length = sizeof peer.storage;
      UniqueFd client(::accept4(listener, peer.get(), &peer_length, SOCK_NONBLOCK | SOCK_CLOEXEC));
      if (!client.valid()) {
        // Out of descriptors (or kernel memory): the connection stays in
        // the backlog and the listener readable; rest rather than spin.
        if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
          watch_listeners(EPOLL_CTL_MOD, 0);
          accept_resume_at_ = std::chrono::steady_clock::now() + kProxyAcceptPause;
        }
        return;  // EAGAIN, or a connection that died in the backlog
      }
      if (connections_.size() >= options_.max_connections) {
        ++counters_.refused_over_limit;
        reset_socket(client);
        continue;
      }
      const SocketAddress& own = own_address_[family == AF_INET ? 0 : 1];
      auto original = fixed_upstream_ ? fixed_upstream_ : original_destination(client.get(), family);
      if (!original || (original->port() == own.port() && (*original == own || own.is_any()))) {
        // A direct connection to the proxy's port: nothing to forward to.
        ++counters_.not_redirected;
        reset_socket(client);
        continue;
      }
      start_connection(std::move(client), peer, *original);
    }
  }

  void start_connection(UniqueFd client, const SocketAddress& peer, const SocketAddress& original) {
    UniqueFd server(::socket(original.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (server.valid() && options_.upstream_mark != 0) {
      const std::uint32_t mark = options_.upstream_mark;
      if (::setsockopt(server.get(), SOL_SOCKET, SO_MARK, &mark, sizeof mark) != 0) server.reset();
    }
    if (!server.valid() || (::connect(server.get(), original.get(), original.length()) != 0 && errno != EINPROGRESS)) {
      ++counters_.upstream_failed;
      reset_socket(client);
      return;
    }
    auto connection = std::make_unique<ProxyConnection>(options_.budget);
    connection->id = next_id_++;
    const ConnectionInfo info{connection->id, socket_address_text(peer), socket_address_text(original)};
    try {
      connection->filter = options_.factory->make(info);
    } catch (...) {
      connection->filter.reset();
    }
    if (!connection->filter) {
      ++counters_.filter_errors;
      reset_socket(client);
      reset_socket(server);
      return;
    }
    connection->sides[kProxyClientSide].fd = std::move(client);
    connection->sides[kProxyServerSide].fd = std::move(server);
    for (int side : {kProxyClientSide, kProxyServerSide}) {
      if (!watch(connection->sides[side].fd.get(), (connection->id << 1) | static_cast<std::uint64_t>(side), 0)) {
        ++counters_.upstream_failed;
        reset_socket(connection->sides[kProxyClientSide].fd);
        return;
      }
    }
    ProxyConnection& live = *connection;
    connections_.emplace(live.id, std::move(connection));
    ++counters_.accepted;
    ++counters_.active;
    const SteadyTime now = std::chrono::steady_clock::now();
    if (!filter_call(live, 0, now, [&](StreamFilter& filter) { return filter.on_open(now); })) return;
    pump(live, now);
  }

  // Runs one filter call and applies its verdict to direction `index`;
  // false when the filter threw and the connection was reset.
  bool filter_call(ProxyConnection& connection, int index, SteadyTime now,
                   const std::function<FilterVerdict(StreamFilter&)>& call) {
    FilterVerdict verdict;
    try {
      verdict = call(*connection.filter);
    } catch (...) {
      ++counters_.filter_errors;
      destroy(connection, true);
      return false;
    }
    for (Emit& emit : verdict.forward) {
      if (emit.own_segment) set_no_delay(connection.sides[1 - index]);
      connection.queues[index].push(std::move(emit.bytes), now + std::max(Duration{0}, emit.delay), emit.hold_order,
                                    emit.own_segment);
    }
    if (verdict.end_delay > Duration{0}) {
      connection.end_at[index] = verdict.end_delay == kHoldEnd ? SteadyTime::max() : now + verdict.end_delay;
    }
    if (!verdict.reply.empty()) connection.queues[1 - index].push(std::move(verdict.reply), now, false);
    if (verdict.close != CloseAction::kNone) {
      const SteadyTime at = now + std::max(Duration{0}, verdict.close_after);
      if (!connection.close_at || at < *connection.close_at ||
          (at == *connection.close_at && verdict.close == CloseAction::kReset)) {
        connection.close_at = at;
        connection.pending_close = verdict.close;
      }
    }
    recharge(connection);
    return true;
  }

  void recharge(ProxyConnection& connection) {
    const bool was_used_up = budget_used_up();
    connection.charge.set(connection.queues[0].queued_bytes() + connection.queues[1].queued_bytes(),
                          connection.filter->held_bytes());
    // Room again: the directions waiting for it get their turn in this
    // turn of the loop, before the one that freed it reads again.
    if (was_used_up && !budget_used_up() && !budget_waiting_.empty()) {
      budget_recheck_at_ = std::chrono::steady_clock::now();
    }
  }

  bool budget_used_up() const { return options_.budget && options_.budget->exhausted(); }

  // A whole read chunk while the agent's budget has room for it; what room
  // is left, or a small step once it is used up, otherwise.
  std::size_t read_size_within_budget() const {
    if (!options_.budget) return read_buffer_.size();
    // Others wait for room: small steps, so they get their share of it.
    if (!budget_waiting_.empty()) return kProxyReadWhileOverBudget;
    const std::size_t used = options_.budget->used();
    const std::size_t room = used < options_.budget->limit() ? options_.budget->limit() - used : 0;
    return std::min(read_buffer_.size(), std::max(room, kProxyReadWhileOverBudget));
  }

  // Direction `side` is not read while the agent's budget is used up: it
  // has bytes queued, which will be written (or come due) and free some of
  // it, or its filter holds more than it may then.
  bool budget_blocks(const ProxyConnection& connection, int side) const {
    return budget_used_up() &&
           (!connection.queues[side].empty() || connection.filter->held_bytes() > kProxyHeldWhileOverBudget);
  }

  // Paused until the budget frees; false when the connection is gone. A
  // direction with nothing of its own queued waits for room only while
  // queued bytes elsewhere can free it, and at most
  // budget_wait_for_partial_message (a reader that never reads keeps its
  // bytes queued for good; a stream that keeps freeing and taking room can
  // starve it): then its filter gives back what it holds, and the direction
  // is read again (its filter bounds what it holds on its own).
  bool pause_for_budget(ProxyConnection& connection, int side, SteadyTime now) {
    ProxySide& source = connection.sides[side];
    std::optional<SteadyTime>& since = connection.held_wait_since[side];
    if (!connection.queues[side].empty()) {
      since.reset();
    } else if (!since) {
      since = now;
    }
    if (since && (options_.budget->queued() == 0 || now - *since >= options_.budget_wait_for_partial_message)) {
      since.reset();
      const std::size_t held = connection.filter->held_bytes();
      if (!filter_call(connection, side, now,
                       [&](StreamFilter& filter) { return filter.stop_holding(proxy_direction_of(side), now); })) {
        return false;
      }
      if (connection.filter->held_bytes() < held) ++counters_.budget_pass_throughs;
      source.paused = false;
      // What it gave back is due now: the next turn sends it and sets the
      // timers of anything it queued for later.
      timers_.emplace(now, connection.id);
      return true;
    }
    if (!source.paused) ++counters_.budget_pauses;
    source.paused = true;
    wait_for_budget(connection);
    return true;
  }

  void wait_for_budget(ProxyConnection& connection) {
    if (connection.waits_for_budget) return;
    connection.waits_for_budget = true;
    budget_waiting_.push_back(connection.id);
    if (!budget_recheck_at_) budget_recheck_at_ = std::chrono::steady_clock::now() + kProxyBudgetRecheck;
  }

  // Without it the kernel would join small segments again (Nagle).
  static void set_no_delay(ProxySide& side) {
    if (side.no_delay || !side.fd.valid()) return;
    const int one = 1;
    ::setsockopt(side.fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    side.no_delay = true;
  }

  static bool over_bounds(const DirectionQueue& queue, std::size_t max_bytes, std::size_t divisor) {
    return queue.queued_bytes() > max_bytes / divisor || queue.held_chunks() > kProxyMaxHeldChunks / divisor;
  }

  void on_socket_event(std::uint64_t id, int side, std::uint32_t events) {
    auto found = connections_.find(id);
    if (found == connections_.end()) return;
    ProxyConnection& connection = *found->second;
    if (side == kProxyServerSide && connection.connecting) {
      int error = 0;
      socklen_t length = sizeof error;
      ::getsockopt(connection.sides[side].fd.get(), SOL_SOCKET, SO_ERROR, &error, &length);
      if (error != 0) {
        ++counters_.upstream_failed;
        destroy(connection, true);
        return;
      }
      if ((events & EPOLLOUT) == 0) return;
      connection.connecting = false;
    } else if ((events & EPOLLERR) != 0) {
      // A reset (or another error) from one peer: the other gets a reset too.
      destroy(connection, true);
      return;
    }
    const SteadyTime now = std::chrono::steady_clock::now();
    if ((events & (EPOLLIN | EPOLLHUP | EPOLLRDHUP)) != 0 && !read_side(connection, side, now)) return;
    pump(connection, now);
  }

  // False when the connection is gone.
  bool read_side(ProxyConnection& connection, int side, SteadyTime now) {
    maybe_splice(connection, side);
    if (connection.pipes[side]) {
      // Leaving the splice path: the pipe's bytes go first.
      if (connection.no_splice[side]) return true;
      return relay_spliced(connection, side, now);
    }
    return read_copying(connection, side, now);
  }

  // recv() and the filter; false when the connection is gone.
  bool read_copying(ProxyConnection& connection, int side, SteadyTime now) {
    ProxySide& source = connection.sides[side];
    for (int reads = 0; reads < kProxyReadsPerEvent; ++reads) {
      if (source.eof || source.paused || connection.closing ||
          (connection.close_at && *connection.close_at <= now)) {
        return true;
      }
      if (budget_blocks(connection, side)) {
        if (!pause_for_budget(connection, side, now)) return false;
        if (source.paused) return true;
      }
      // At most the bound's headroom (+1, so a full queue still pauses the
      // source): a large read into a small bound would overshoot it.
      const std::size_t queued = connection.queues[side].queued_bytes();
      const std::size_t headroom = options_.max_queued_bytes > queued ? options_.max_queued_bytes - queued : 0;
      const std::size_t want = std::min(read_size_within_budget(), headroom + 1);
      const ssize_t count = ::recv(source.fd.get(), read_buffer_.data(), want, 0);
      if (count > 0) {
        const std::string_view input(read_buffer_.data(), static_cast<std::size_t>(count));
        if (connection.filter->passes_through(proxy_direction_of(side))) {
          if (!relay_passed(connection, side, input, now)) return false;
        } else if (!filter_call(connection, side, now, [&](StreamFilter& filter) {
                     return filter.on_bytes(proxy_direction_of(side), input, now);
                   })) {
          return false;
        }
        // Written before the next read: the queue's buffer stays empty, so
        // the next chunk is moved into it rather than appended (a copy).
        if (!write_ready(connection, side, now)) return false;
        recharge(connection);
        if (over_bounds(connection.queues[side], options_.max_queued_bytes, 1)) source.paused = true;
        continue;
      }
      if (count == 0) {
        source.eof = true;
        return filter_call(connection, side, now,
                           [&](StreamFilter& filter) { return filter.on_end(proxy_direction_of(side), now); });
      }
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return true;
      destroy(connection, true);
      return false;
    }
    return true;
  }

  // A direction its filter passes through (it would only copy the bytes):
  // straight from the read buffer to the target while the target takes
  // them and nothing is queued before them; only the rest is queued. The
  // filter is not called (StreamFilter::passes_through allows it).
  bool relay_passed(ProxyConnection& connection, int side, std::string_view input, SteadyTime now) {
    DirectionQueue& queue = connection.queues[side];
    if (queue.empty() && target_ready(connection, side)) {
      const ssize_t sent =
          ::send(connection.sides[1 - side].fd.get(), input.data(), input.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
      if (sent < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        destroy(connection, true);
        return false;
      }
      if (sent > 0) {
        (side == 0 ? counters_.bytes_client_to_server : counters_.bytes_server_to_client) +=
            static_cast<std::uint64_t>(sent);
        input.remove_prefix(static_cast<std::size_t>(sent));
      }
    }
    if (!input.empty()) queue.push(std::string(input), now, true);
    recharge(connection);
    return true;
  }

  // Whether direction `index`'s target can be written to now.
  static bool target_ready(const ProxyConnection& connection, int index) {
    return !(1 - index == kProxyServerSide && connection.connecting) && !connection.sides[1 - index].write_shut;
  }

  // What direction `index` has due, written; false when the connection is gone.
  bool write_ready(ProxyConnection& connection, int index, SteadyTime now) {
    DirectionQueue& queue = connection.queues[index];
    if (queue.empty() || !target_ready(connection, index)) return true;
    queue.release(now);
    return send_ready(connection, index);
  }

  // Sends the queue's ready bytes until the target's buffer is full; false
  // when the connection is gone (the target failed: RST both ways).
  bool send_ready(ProxyConnection& connection, int index) {
    DirectionQueue& queue = connection.queues[index];
    const int target = connection.sides[1 - index].fd.get();
    while (pipe_empty(connection, index) && !queue.ready().empty()) {
      const std::string_view bytes = queue.ready();
      const ssize_t sent = ::send(target, bytes.data(), bytes.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
      if (sent > 0) {
        queue.consume(static_cast<std::size_t>(sent));
        (index == 0 ? counters_.bytes_client_to_server : counters_.bytes_server_to_client) +=
            static_cast<std::uint64_t>(sent);
        continue;
      }
      if (sent < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return true;
      destroy(connection, true);
      return false;
    }
    return true;
  }

  // Switches direction `index` to splice() once its filter passes it
  // through and nothing it emitted is still queued, so bytes keep their
  // order. Without a pipe (descriptors short, or a bound below a page) it
  // stays on the copying path for good.
  void maybe_splice(ProxyConnection& connection, int index) {
    if (!options_.splice_pass_through) return;
    if (connection.pipes[index] || connection.no_splice[index] || connection.sides[index].eof) return;
    if (!connection.queues[index].empty() || !connection.filter->passes_through(proxy_direction_of(index))) return;
    connection.pipes[index] = SplicePipe::open(std::min(kProxyPipeBytes, options_.max_queued_bytes));
    if (!connection.pipes[index]) {
      connection.no_splice[index] = true;
      return;
    }
    ++counters_.spliced_directions;
  }

  // A spliced direction on a read event: socket -> pipe -> socket, a few
  // rounds, so one busy connection cannot starve the others. False when
  // the connection is gone.
  bool relay_spliced(ProxyConnection& connection, int side, SteadyTime now) {
    ProxySide& source = connection.sides[side];
    SplicePipe& pipe = *connection.pipes[side];
    for (int rounds = 0; rounds < kProxyReadsPerEvent; ++rounds) {
      // A queued reply or on_end() output goes after the pipe's bytes and
      // before any later ones.
      if (source.eof || connection.closing || (connection.close_at && *connection.close_at <= now) ||
          !connection.queues[side].empty()) {
        return true;
      }
      const bool was_empty = pipe.empty();
      const SpliceStep step = pipe.fill(source.fd.get());
      // An urgent byte: splice() stops at its mark with bytes still queued
      // (EAGAIN on a readable socket, or 0 after the peer's FIN), so the
      // copying path takes this direction over.
      if ((step.outcome == SpliceOutcome::kEnd && (proxy_at_urgent_mark(source.fd.get()) ||
                                                   proxy_bytes_unread(source.fd.get()))) ||
          (step.outcome == SpliceOutcome::kWouldBlock && rounds == 0 && was_empty &&
           proxy_at_urgent_mark(source.fd.get()))) {
        return leave_splice(connection, side, now);
      }
      if (step.outcome == SpliceOutcome::kEnd) {
        source.eof = true;
        return filter_call(connection, side, now,
                           [&](StreamFilter& filter) { return filter.on_end(proxy_direction_of(side), now); });
      }
      if (step.outcome == SpliceOutcome::kError) {
        destroy(connection, true);
        return false;
      }
      const std::size_t before = pipe.held();
      if (!drain_spliced(connection, side)) return false;
      if (step.outcome == SpliceOutcome::kWouldBlock && pipe.held() == before) return true;
    }
    return true;
  }

  // Direction `side` goes back to copying for good: at once when its pipe
  // is empty, else once pump() has drained the pipe.
  bool leave_splice(ProxyConnection& connection, int side, SteadyTime now) {
    connection.no_splice[side] = true;
    if (!connection.pipes[side]->empty()) return true;
    connection.pipes[side].reset();
    return read_copying(connection, side, now);
  }

  // Pipe -> target while the target takes bytes; false when the
  // connection is gone (a reset or closed target: RST both ways).
  bool drain_spliced(ProxyConnection& connection, int index) {
    SplicePipe& pipe = *connection.pipes[index];
    ProxySide& target = connection.sides[1 - index];
    if ((1 - index == kProxyServerSide && connection.connecting) || target.write_shut) return true;
    while (!pipe.empty()) {
      const SpliceStep step = pipe.drain(target.fd.get());
      if (step.outcome == SpliceOutcome::kWouldBlock) return true;
      if (step.outcome != SpliceOutcome::kMoved) {
        destroy(connection, true);
        return false;
      }
      (index == 0 ? counters_.bytes_client_to_server : counters_.bytes_server_to_client) += step.bytes;
    }
    return true;
  }

  static bool pipe_empty(const ProxyConnection& connection, int index) {
    return !connection.pipes[index] || connection.pipes[index]->empty();
  }

  // Not read now: its queue is over the bound, or (spliced) its pipe is
  // full or bytes emitted by the filter wait behind the pipe's.
  static bool source_blocked(const ProxyConnection& connection, int side) {
    const std::optional<SplicePipe>& pipe = connection.pipes[side];
    return connection.sides[side].paused ||
           (pipe && (pipe->full() || !connection.queues[side].empty() || connection.no_splice[side]));
  }

  // Writes what is due, half-closes, closes, re-arms epoll and the timer.
  void pump(ProxyConnection& connection, SteadyTime now) {
    const bool close_due = connection.close_at && now >= *connection.close_at;
    std::optional<SteadyTime> next;
    for (int index : {0, 1}) {
      DirectionQueue& queue = connection.queues[index];
      const auto due = queue.release(now);
      if (due) next = next ? std::min(*next, *due) : due;
      ProxySide& target = connection.sides[1 - index];
      const bool writable = target_ready(connection, index);
      if (connection.pipes[index] && !drain_spliced(connection, index)) return;
      if (connection.no_splice[index] && pipe_empty(connection, index)) connection.pipes[index].reset();
      if (writable && !send_ready(connection, index)) return;
      recharge(connection);  // what was just written, before deciding who waits
      ProxySide& source = connection.sides[index];
      if (source.paused && !over_bounds(queue, options_.max_queued_bytes, 2)) {
        if (!budget_blocks(connection, index)) {
          source.paused = false;
          connection.held_wait_since[index].reset();
        } else if (!pause_for_budget(connection, index, now)) {
          return;
        }
      }
      maybe_splice(connection, index);
      // The source's EOF reaches the target once everything before it did
      // and its end delay (if any) passed.
      const std::optional<SteadyTime>& end_at = connection.end_at[index];
      const bool end_due = !end_at || now >= *end_at;
      if (end_at && !end_due && *end_at != SteadyTime::max()) next = next ? std::min(*next, *end_at) : *end_at;
      if (source.eof && queue.empty() && pipe_empty(connection, index) && writable && end_due) {
        ::shutdown(target.fd.get(), SHUT_WR);
        target.write_shut = true;
      }
    }
    if (close_due) {
      connection.close_at.reset();
      if (connection.pending_close == CloseAction::kReset) {
        ++counters_.resets;
        destroy(connection, true);
        return;
      }
      ++counters_.closes;
      connection.closing = true;
    }
    const bool drained = connection.queues[0].empty() && connection.queues[1].empty() && pipe_empty(connection, 0) &&
                         pipe_empty(connection, 1);
    const bool both_ended = connection.sides[0].eof && connection.sides[1].eof && connection.sides[0].write_shut &&
                            connection.sides[1].write_shut;
    if ((connection.closing && drained) || (both_ended && drained)) {
      destroy(connection, false);
      return;
    }
    if (connection.close_at) next = next ? std::min(*next, *connection.close_at) : connection.close_at;
    rearm(connection);
    if (next && (!connection.timer || *next < *connection.timer)) {
      connection.timer = next;
      timers_.emplace(*next, connection.id);
    }
  }

  void rearm(ProxyConnection& connection) {
    for (int side : {kProxyClientSide, kProxyServerSide}) {
      ProxySide& own = connection.sides[side];
      if (!own.watched) continue;
      if (own.eof && own.write_shut) {
        // Nothing more to read or write on it, and epoll would report
        // EPOLLHUP on every wait; a reset of its peer still shows in the
        // other side's writes.
        ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, own.fd.get(), nullptr);
        own.watched = false;
        continue;
      }
      const bool connecting = side == kProxyServerSide && connection.connecting;
      std::uint32_t events = 0;
      if (!own.eof && !source_blocked(connection, side) && !connection.closing && !connecting) {
        events |= EPOLLIN | EPOLLRDHUP;
      }
      const bool to_write = !connection.queues[1 - side].ready().empty() || !pipe_empty(connection, 1 - side);
      if (connecting || (!own.write_shut && to_write)) events |= EPOLLOUT;
      if (events == 0 && own.write_shut) {
        if (!own.parked) {
          ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, own.fd.get(), nullptr);
          own.parked = true;
        }
        continue;
      }
      if (events == own.events && !own.parked) continue;
      epoll_event event{};
      event.events = events;
      event.data.u64 = (connection.id << 1) | static_cast<std::uint64_t>(side);
      ::epoll_ctl(epoll_.get(), own.parked ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, own.fd.get(), &event);
      own.parked = false;
      own.events = events;
    }
  }

  // Closes both sides (with RST when `reset`) and forgets the connection;
  // `connection` is dangling afterwards.
  void destroy(ProxyConnection& connection, bool reset) {
    for (ProxySide& side : connection.sides) {
      if (reset) {
        reset_socket(side.fd);
      } else {
        if (side.fd.valid() && !side.write_shut) ::shutdown(side.fd.get(), SHUT_WR);
        side.fd.reset();
      }
    }
    --counters_.active;
    connections_.erase(connection.id);
  }

  ProxyEngineOptions options_;
  ProxyCounters& counters_;
  const int wake_fd_;
  UniqueFd epoll_;
  UniqueFd listener_;
  UniqueFd listener6_;              // invalid: no IPv6 in the namespace
  SocketAddress own_address_[2];    // IPv4, IPv6 listener
  std::optional<SocketAddress> fixed_upstream_;
  std::map<std::uint64_t, std::unique_ptr<ProxyConnection>> connections_;
  using TimerEntry = std::pair<SteadyTime, std::uint64_t>;
  std::priority_queue<TimerEntry, std::vector<TimerEntry>, std::greater<>> timers_;
  std::uint64_t next_id_ = kProxyFirstConnectionId;
  std::optional<SteadyTime> accept_resume_at_;  // listeners rest until then
  // Connections with a direction paused for the agent's budget, and when
  // to look at the budget again for them.
  std::vector<std::uint64_t> budget_waiting_;
  std::optional<SteadyTime> budget_recheck_at_;
  std::vector<char> read_buffer_ = std::vector<char>(kProxyReadChunkBytes);
  bool stopping_ = false;
};

}  // namespace

StatusOr<std::unique_ptr<ProxyEngine>> ProxyEngine::start(ProxyEngineOptions options) {
  if (!options.factory) return invalid_argument("proxy: no filter factory");
  std::unique_ptr<ProxyEngine> engine(new ProxyEngine());
  engine->shared_ = std::make_shared<Shared>();
  engine->counters_ = std::make_shared<ProxyCounters>();
  engine->wake_fd_ = UniqueFd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!engine->wake_fd_.valid()) return internal_error(std::string("proxy: eventfd: ") + std::strerror(errno));

  auto ready = std::make_shared<std::promise<StatusOr<ProxyListening>>>();
  auto opened = ready->get_future();
  try {
    engine->thread_ = std::thread([options = std::move(options), shared = engine->shared_,
                                   counters = engine->counters_, wake = engine->wake_fd_.get(), ready]() mutable {
      bool reported = false;
      // splice() into a socket whose peer is gone raises SIGPIPE (it has no
      // MSG_NOSIGNAL); blocked in this thread the call fails with EPIPE,
      // whether or not the process ignores the signal (tests, benchmarks).
      sigset_t pipe_signal;
      sigemptyset(&pipe_signal);
      sigaddset(&pipe_signal, SIGPIPE);
      pthread_sigmask(SIG_BLOCK, &pipe_signal, nullptr);
      set_current_thread_name("chaos-proxy");
      try {
        if (options.network_namespace_fd >= 0) {
          if (Status entered = enter_network_namespace(options.network_namespace_fd); !entered.ok()) {
            ready->set_value(entered);
            return;
          }
        }
        ProxyLoop loop(std::move(options), *counters, wake);
        auto listening = loop.open();
        reported = true;
        const bool ok = listening.ok();
        ready->set_value(std::move(listening));
        if (ok) loop.run();
      } catch (const std::exception& error) {
        std::lock_guard lock(shared->mutex);
        shared->failure = std::string("proxy event thread: ") + error.what();
      } catch (...) {
        std::lock_guard lock(shared->mutex);
        shared->failure = "proxy event thread: unknown exception";
      }
      if (!reported) {
        std::lock_guard lock(shared->mutex);
        ready->set_value(internal_error(shared->failure.empty() ? "proxy: did not start" : shared->failure));
      }
    });
  } catch (const std::system_error& error) {
    return resource_exhausted(std::string("proxy: cannot start its event thread: ") + error.what());
  }
  auto listening = opened.get();
  if (!listening.ok()) {
    engine->thread_.join();
    engine->stopped_ = true;
    return listening.status();
  }
  engine->port_ = listening->port;
  engine->listens_ipv6_ = listening->ipv6;
  return engine;
}

ProxyEngine::~ProxyEngine() { stop(); }

void ProxyEngine::stop() {
  std::lock_guard lock(stop_mutex_);
  if (thread_.joinable()) {
    const std::uint64_t one = 1;
    (void)!::write(wake_fd_.get(), &one, sizeof one);
    thread_.join();
  }
  stopped_ = true;
}

std::string ProxyEngine::failure() const {
  std::lock_guard lock(shared_->mutex);
  return shared_->failure;
}

}  // namespace chaos::agent::proxy
