#include "agent/faults/dns/dns_stub_responder.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <iostream>
#include <stdexcept>

#include "agent/faults/dns/in_network_namespace.h"
#include "agent/faults/dns/loopback_listeners.h"
#include "agent/targets/namespaces/namespace_handle.h"
#include "common/thread_name.h"

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
  StatusOr<LoopbackListeners> bound = unavailable("dns stub: listeners not bound");
  CHAOS_RETURN_IF_ERROR(run_in_network_namespace(responder->options_.network_namespace_fd,
                                                 [&bound] { bound = bind_loopback_listeners(); }));
  CHAOS_ASSIGN_OR_RETURN(LoopbackListeners listeners, std::move(bound));
  responder->udp4_ = std::move(listeners.udp4);
  responder->tcp4_ = std::move(listeners.tcp4);
  responder->udp6_ = std::move(listeners.udp6);
  responder->tcp6_ = std::move(listeners.tcp6);
  responder->port_ = listeners.port;
  responder->listens_on_ipv6_ = responder->udp6_.valid();
  CHAOS_RETURN_IF_ERROR(responder->start_threads());
  return responder;
}

DnsStubResponder::~DnsStubResponder() { stop(); }

Status DnsStubResponder::start_threads() {
  const std::size_t workers = std::max<std::size_t>(options_.workers, 1);
  try {
    {
      std::lock_guard lock(threads_mutex_);
      threads_.reserve(workers + 2);  // launch() then never reallocates
    }
    launch("listener", [this] { listen_loop(); });
    launch("delayer", [this] { delay_loop(); });
    for (std::size_t i = 0; i < workers; ++i) launch("worker", [this] { worker_loop(); });
  } catch (const std::exception& error) {
    stop();
    return resource_exhausted(std::string("dns stub: cannot start its threads: ") + error.what());
  }
  return {};
}

void DnsStubResponder::launch(const char* name, std::function<void()> body) {
  std::lock_guard lock(threads_mutex_);
  ++running_;
  try {
    threads_.emplace_back([this, name, body = std::move(body)] {
      set_current_thread_name(std::string("chaos-dns-") + name);
      try {
        if (options_.network_namespace_fd >= 0) {
          if (Status entered = enter_network_namespace(options_.network_namespace_fd); !entered.ok()) {
            throw std::runtime_error(entered.to_string());
          }
        }
        body();
      } catch (const std::exception& error) {
        record_failure(std::string(name) + ": " + error.what());
      } catch (...) {
        record_failure(std::string(name) + ": unknown exception");
      }
      std::lock_guard done(threads_mutex_);
      --running_;
      threads_done_.notify_all();
    });
  } catch (...) {
    --running_;
    throw;
  }
}

void DnsStubResponder::record_failure(const std::string& what) {
  std::cerr << "dns stub responder (port " << port_ << "): thread stopped: " << what << "\n";
  std::lock_guard lock(failure_mutex_);
  if (failure_.empty()) failure_ = what;
}

std::string DnsStubResponder::failure() const {
  std::lock_guard lock(failure_mutex_);
  return failure_;
}

void DnsStubResponder::stop() {
  std::lock_guard stop_lock(stop_mutex_);
  if (stopped_) return;
  stopped_ = true;
  {
    std::lock_guard lock(tasks_mutex_);
    stopping_ = true;
  }
  {
    // The delayer now either saw stopping_ or waits and gets the notify.
    std::lock_guard lock(delayed_mutex_);
  }
  // Wakes the listener and cancels every upstream and tcp wait.
  const std::uint64_t one = 1;
  [[maybe_unused]] const ssize_t written = ::write(stop_event_.get(), &one, sizeof one);
  {
    std::unique_lock lock(threads_mutex_);
    while (running_ > 0) {
      tasks_ready_.notify_all();
      delayed_ready_.notify_all();
      clock_.wake_all();  // ends delays sleeping on the injected clock
      threads_done_.wait_for(lock, std::chrono::milliseconds(20));
    }
  }
  std::vector<std::thread> threads;
  {
    std::lock_guard lock(threads_mutex_);
    threads.swap(threads_);
  }
  for (auto& thread : threads) {
    if (thread.joinable()) thread.join();
  }
  {
    std::lock_guard lock(tasks_mutex_);
    tasks_.clear();  // closes queued tcp connections
  }
  {
    std::lock_guard lock(delayed_mutex_);
    delayed_.clear();
  }
  // Nothing uses the listeners any more; closing them frees the port now.
  udp4_ = UniqueFd();
  tcp4_ = UniqueFd();
  udp6_ = UniqueFd();
  tcp6_ = UniqueFd();
}

bool DnsStubResponder::submit(std::function<void()> task) {
  {
    std::lock_guard lock(tasks_mutex_);
    if (stopping_ || tasks_.size() >= options_.max_queued) return false;
    tasks_.push_back(std::move(task));
  }
  tasks_ready_.notify_one();
  return true;
}

void DnsStubResponder::worker_loop() {
  for (;;) {
    std::function<void()> task;
    {
      std::unique_lock lock(tasks_mutex_);
      tasks_ready_.wait(lock, [this] { return stopping_.load() || !tasks_.empty(); });
      if (stopping_) return;
      task = std::move(tasks_.front());
      tasks_.pop_front();
    }
    task();
  }
}

bool DnsStubResponder::hold_answer(std::chrono::nanoseconds delay, std::function<void()> send) {
  {
    std::lock_guard lock(delayed_mutex_);
    if (delayed_.size() >= options_.max_delayed) return false;
    // Taken under the lock: with the fault's one delay, later answers are
    // due later, so appending keeps the queue sorted.
    delayed_.push_back(DelayedAnswer{clock_.steady_now() + delay, std::move(send)});
  }
  delayed_ready_.notify_one();
  return true;
}

void DnsStubResponder::delay_loop() {
  for (;;) {
    SteadyTime due;
    {
      std::unique_lock lock(delayed_mutex_);
      delayed_ready_.wait(lock, [this] { return stopping_.load() || !delayed_.empty(); });
      if (stopping_) return;
      due = delayed_.front().due;
    }
    const SteadyTime now = clock_.steady_now();
    if (now < due) {
      // In slices, so a stop that races with the start of a sleep is
      // noticed soon even on a clock nobody wakes.
      clock_.sleep_until(std::min(due, now + kDelaySlice));
      continue;
    }
    std::function<void()> send;
    {
      std::lock_guard lock(delayed_mutex_);
      if (stopping_) return;
      send = std::move(delayed_.front().send);
      delayed_.pop_front();
    }
    send();
  }
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
      throw std::runtime_error("poll: " + errno_text());
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
  if (is_probe(peer)) {
    if (auto reply = answer_probe(buffer)) reply_to_peer(*reply);
    return;
  }
  counters_.queries++;
  QueryPlan plan = plan_for(buffer, peer, /*tcp=*/false);
  if (plan.action == QueryPlan::Action::kDrop) {
    counters_.dropped++;
  } else if (plan.action == QueryPlan::Action::kReply) {
    reply_to_peer(plan.reply);
  } else {
    if (!plan.faulted) counters_.forwarded++;
    const bool queued = submit([this, query = std::move(buffer), delay = plan.answer_delay, reply_to_peer] {
      auto answer = forward(query, /*tcp=*/false);
      if (!answer || stopping_) return;
      if (delay <= std::chrono::nanoseconds(0)) {
        reply_to_peer(*answer);
        return;
      }
      const bool held = hold_answer(delay, [reply_to_peer, reply = std::move(*answer)] { reply_to_peer(reply); });
      if (!held) counters_.overflowed++;
    });
    if (!queued && !stopping_) counters_.overflowed++;
  }
}

void DnsStubResponder::expect_probe(const sockaddr_storage& source) {
  std::lock_guard lock(probe_mutex_);
  probe_source_ = source;
}

void DnsStubResponder::clear_probe() {
  std::lock_guard lock(probe_mutex_);
  probe_source_.reset();
}

bool DnsStubResponder::is_probe(const sockaddr_storage& peer) const {
  std::lock_guard lock(probe_mutex_);
  if (!probe_source_ || probe_source_->ss_family != peer.ss_family) return false;
  if (peer.ss_family == AF_INET) {
    const auto& a = reinterpret_cast<const sockaddr_in&>(peer);
    const auto& b = reinterpret_cast<const sockaddr_in&>(*probe_source_);
    return a.sin_port == b.sin_port && a.sin_addr.s_addr == b.sin_addr.s_addr;
  }
  if (peer.ss_family == AF_INET6) {
    const auto& a = reinterpret_cast<const sockaddr_in6&>(peer);
    const auto& b = reinterpret_cast<const sockaddr_in6&>(*probe_source_);
    return a.sin6_port == b.sin6_port && std::memcmp(&a.sin6_addr, &b.sin6_addr, sizeof a.sin6_addr) == 0;
  }
  return false;
}

std::optional<Bytes> DnsStubResponder::answer_probe(std::span<const std::uint8_t> query) {
  counters_.probes++;
  QueryPlan plan = policy_->plan_probe(query);
  if (!plan.faulted) return std::nullopt;  // never forwarded: a probe stays on this node
  counters_.probes_faulted++;
  // Delay mode would forward and answer late: the probe proves the hold by
  // being taken and staying unanswered, without asking the upstream.
  if (plan.action == QueryPlan::Action::kReply) return std::move(plan.reply);
  return std::nullopt;
}

void DnsStubResponder::accept_connection(int fd) {
  sockaddr_storage peer{};
  socklen_t peer_length = sizeof peer;
  UniqueFd connection(::accept4(fd, reinterpret_cast<sockaddr*>(&peer), &peer_length, SOCK_CLOEXEC | SOCK_NONBLOCK));
  if (!connection.valid()) return;
  // Shared so the task stays copyable; a refused task closes it at once.
  auto shared = std::make_shared<UniqueFd>(std::move(connection));
  if (!submit([this, shared, peer] { serve_connection(std::move(*shared), peer); }) && !stopping_) {
    counters_.overflowed++;
  }
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
  if (!plan.faulted) counters_.forwarded++;
  auto reply = forward(query, tcp);
  if (!reply || !hold_for(plan.answer_delay)) return std::nullopt;
  return reply;
}

std::optional<Bytes> DnsStubResponder::forward(std::span<const std::uint8_t> query, bool tcp) {
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
