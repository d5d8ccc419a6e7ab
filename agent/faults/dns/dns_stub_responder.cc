#include "agent/faults/dns/dns_stub_responder.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

#include "agent/faults/dns/loopback_listeners.h"

namespace chaos::agent::dns {

namespace {

// EDNS lets clients ask for answers up to 64 KiB; a query is far smaller,
// but reading into a full-size buffer means nothing is ever truncated.
constexpr std::size_t kMaxDatagram = 65535;
// Delays are waited out in slices so stop() is noticed promptly even when a
// wake-up races with the start of a sleep.
constexpr std::chrono::milliseconds kDelaySlice{100};

}  // namespace

DnsStubResponder::DnsStubResponder(std::shared_ptr<QueryPolicy> policy, ResponderOptions options,
                                   Clock& clock)
    : policy_(std::move(policy)), options_(std::move(options)), clock_(clock) {}

StatusOr<std::unique_ptr<DnsStubResponder>> DnsStubResponder::start(std::shared_ptr<QueryPolicy> policy,
                                                                    ResponderOptions options, Clock& clock) {
  std::unique_ptr<DnsStubResponder> responder(new DnsStubResponder(std::move(policy), std::move(options), clock));
  responder->stop_event_ = UniqueFd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!responder->stop_event_.valid()) return unavailable("dns stub: eventfd: " + errno_text());
  responder->options_.upstream_options.cancel_fd = responder->stop_event_.get();
  CHAOS_ASSIGN_OR_RETURN(LoopbackListeners listeners, bind_loopback_listeners());
  responder->udp4_ = std::move(listeners.udp4);
  responder->tcp4_ = std::move(listeners.tcp4);
  responder->udp6_ = std::move(listeners.udp6);
  responder->tcp6_ = std::move(listeners.tcp6);
  responder->port_ = listeners.port;
  responder->listens_on_ipv6_ = responder->udp6_.valid();
  try {
    responder->listener_ = std::thread([raw = responder.get()] { raw->listen_loop(); });
  } catch (const std::system_error& error) {
    return resource_exhausted(std::string("dns stub: cannot start listener thread: ") + error.what());
  }
  return responder;
}

DnsStubResponder::~DnsStubResponder() { stop(); }

void DnsStubResponder::stop() {
  std::lock_guard stop_lock(stop_mutex_);
  if (!listener_.joinable()) return;
  stopping_ = true;
  const std::uint64_t one = 1;
  [[maybe_unused]] const ssize_t written = ::write(stop_event_.get(), &one, sizeof one);
  if (listener_.joinable()) listener_.join();
  {
    std::unique_lock lock(tasks_mutex_);
    while (in_flight_ > 0) {
      clock_.wake_all();  // ends delays sleeping on the injected clock
      tasks_done_.wait_for(lock, std::chrono::milliseconds(20));
    }
  }
  // Nothing uses the listeners any more; closing them frees the port now.
  udp4_ = UniqueFd();
  tcp4_ = UniqueFd();
  udp6_ = UniqueFd();
  tcp6_ = UniqueFd();
}

bool DnsStubResponder::spawn(std::function<void()> work) {
  {
    std::lock_guard lock(tasks_mutex_);
    if (in_flight_ >= options_.max_in_flight || stopping_) return false;
    ++in_flight_;
  }
  // Detached, but stop() waits for in_flight_ to reach zero, and a task
  // touches nothing of ours after its final decrement under the lock.
  try {
    std::thread([this, work = std::move(work)] {
      work();
      std::lock_guard lock(tasks_mutex_);
      --in_flight_;
      tasks_done_.notify_all();
    }).detach();
  } catch (const std::system_error&) {
    // Out of threads (RLIMIT_NPROC, memory): drop this query, keep serving.
    std::lock_guard lock(tasks_mutex_);
    --in_flight_;
    tasks_done_.notify_all();
    return false;
  }
  return true;
}

void DnsStubResponder::listen_loop() {
  std::vector<pollfd> fds = {{stop_event_.get(), POLLIN, 0}, {udp4_.get(), POLLIN, 0}, {tcp4_.get(), POLLIN, 0}};
  if (udp6_.valid()) {
    fds.push_back({udp6_.get(), POLLIN, 0});
    fds.push_back({tcp6_.get(), POLLIN, 0});
  }
  while (!stopping_) {
    if (::poll(fds.data(), fds.size(), -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (fds[0].revents != 0) return;
    for (std::size_t i = 1; i < fds.size(); ++i) {
      if (fds[i].revents == 0) continue;
      const bool is_udp = fds[i].fd == udp4_.get() || fds[i].fd == udp6_.get();
      if (is_udp) {
        serve_datagram(fds[i].fd);
      } else {
        accept_connection(fds[i].fd);
      }
    }
  }
}

void DnsStubResponder::serve_datagram(int fd) {
  Bytes buffer(kMaxDatagram);
  sockaddr_storage peer{};
  socklen_t peer_length = sizeof peer;
  const ssize_t got = ::recvfrom(fd, buffer.data(), buffer.size(), MSG_DONTWAIT,
                                 reinterpret_cast<sockaddr*>(&peer), &peer_length);
  if (got < 0) return;
  buffer.resize(static_cast<std::size_t>(got));
  auto reply_to_peer = [fd, peer, peer_length](const Bytes& reply) {
    ::sendto(fd, reply.data(), reply.size(), MSG_NOSIGNAL, reinterpret_cast<const sockaddr*>(&peer), peer_length);
  };
  counters_.queries++;
  QueryPlan plan = plan_for(buffer, peer, /*tcp=*/false);
  if (plan.action == QueryPlan::Action::kDrop) {
    counters_.dropped++;
  } else if (plan.action == QueryPlan::Action::kReply) {
    reply_to_peer(plan.reply);
  } else {
    const bool started = spawn([this, query = std::move(buffer), delay = plan.answer_delay, reply_to_peer] {
      auto answer = forward(query, /*tcp=*/false);
      if (answer && hold_for(delay)) reply_to_peer(*answer);
    });
    if (!started) counters_.dropped++;
  }
}

void DnsStubResponder::accept_connection(int fd) {
  sockaddr_storage peer{};
  socklen_t peer_length = sizeof peer;
  UniqueFd connection(::accept4(fd, reinterpret_cast<sockaddr*>(&peer), &peer_length, SOCK_CLOEXEC | SOCK_NONBLOCK));
  if (!connection.valid()) return;
  auto shared = std::make_shared<UniqueFd>(std::move(connection));
  if (!spawn([this, shared, peer] { serve_connection(std::move(*shared), peer); })) counters_.dropped++;
}

void DnsStubResponder::serve_connection(UniqueFd connection, sockaddr_storage peer) {
  const int cancel = stop_event_.get();
  while (!stopping_) {
    const auto idle_deadline = std::chrono::steady_clock::now() + options_.tcp_idle_timeout;
    auto query = read_framed(connection.get(), cancel, idle_deadline);
    if (!query.ok()) return;  // closed, idle, garbage length or stopping
    counters_.queries++;
    auto reply = answer(*query, peer, /*tcp=*/true);
    if (!reply) continue;  // timeout mode: the client waits for nothing
    const auto write_deadline = std::chrono::steady_clock::now() + options_.tcp_idle_timeout;
    if (!write_framed(connection.get(), *reply, cancel, write_deadline).ok()) return;
  }
}

QueryPlan DnsStubResponder::plan_for(std::span<const std::uint8_t> query, const sockaddr_storage& peer,
                                     bool tcp) {
  QueryPlan plan = policy_->plan(query);
  // Asked only for faulted queries: the /proc lookup is not free.
  if (plan.faulted && options_.is_exempt_peer && options_.is_exempt_peer(peer, tcp)) return QueryPlan{};
  if (plan.faulted) counters_.faulted++;
  return plan;
}

std::optional<Bytes> DnsStubResponder::answer(std::span<const std::uint8_t> query, const sockaddr_storage& peer,
                                              bool tcp) {
  QueryPlan plan = plan_for(query, peer, tcp);
  if (plan.action == QueryPlan::Action::kDrop) {
    counters_.dropped++;
    return std::nullopt;
  }
  if (plan.action == QueryPlan::Action::kReply) return std::move(plan.reply);
  auto reply = forward(query, tcp);
  if (!reply || !hold_for(plan.answer_delay)) return std::nullopt;
  return reply;
}

std::optional<Bytes> DnsStubResponder::forward(std::span<const std::uint8_t> query, bool tcp) {
  counters_.forwarded++;
  auto reply = tcp ? exchange_tcp(options_.upstream, query, options_.upstream_options)
                   : exchange_udp(options_.upstream, query, options_.upstream_options);
  if (!reply.ok()) {
    // The client sees what a dead upstream looks like: no answer.
    counters_.upstream_errors++;
    return std::nullopt;
  }
  return std::move(reply).value();
}

bool DnsStubResponder::hold_for(std::chrono::nanoseconds delay) {
  if (delay <= std::chrono::nanoseconds(0)) return !stopping_;
  const SteadyTime deadline = clock_.steady_now() + delay;
  while (!stopping_) {
    const SteadyTime now = clock_.steady_now();
    if (now >= deadline) return true;
    clock_.sleep_until(std::min(deadline, now + kDelaySlice));
  }
  return false;
}

}  // namespace chaos::agent::dns
