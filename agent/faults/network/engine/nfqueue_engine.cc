#include "agent/faults/network/engine/nfqueue_engine.h"

#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iostream>
#include <optional>

#include "agent/faults/network/engine/gso_packet_sender.h"
#include "agent/faults/network/engine/nfqueue_socket.h"
#include "agent/faults/network/engine/packet_sender.h"
#include "agent/faults/network/engine/wake_up_latency.h"
#include "agent/targets/namespaces/namespace_handle.h"
#include "common/unique_fd.h"
#include "common/thread_name.h"

namespace chaos::agent::network {

namespace {

// The kernel tells a queued packet's skb->priority (NFQA_PRIORITY) only
// since Linux 5.18; a packet-socket re-send without it would bypass a
// bandwidth fault's class. Said once per engine.
// A packet socket also skips IPsec: with any xfrm policy in the namespace
// (or when we cannot tell) the engine does not use one.
bool packet_socket_path_supported(const EngineOptions& options) {
  utsname kernel{};
  if (uname(&kernel) != 0 || !kernel_release_at_least(kernel.release, 5, 18)) {
    std::cerr << "nfqueue engine (queue " << options.queue_number << "): kernel " << kernel.release
              << " does not report a queued packet's priority (Linux 5.18); re-sending segment by segment\n";
    return false;
  }
  const auto ipsec = ipsec_policies_present();
  if (!ipsec.ok() || *ipsec) {
    std::cerr << "nfqueue engine (queue " << options.queue_number << "): "
              << (ipsec.ok() ? std::string("IPsec policies present") : ipsec.status().message())
              << "; re-sending segment by segment (a packet socket skips IPsec)\n";
    return false;
  }
  return true;
}

timespec to_timespec(SteadyTime time) {
  const auto nanos = time.time_since_epoch().count();
  return timespec{static_cast<time_t>(nanos / 1'000'000'000), static_cast<long>(nanos % 1'000'000'000)};
}

}  // namespace

// Everything the engine thread owns; built on the caller's thread (or one
// inside the fault's namespace) so that every socket lives in the
// namespace the fault acts in.
class NfqueueEngine::Io {
 public:
  std::unique_ptr<NfqueueSocket> queue;
  std::unique_ptr<PacketSender> sender;
  std::unique_ptr<PacketHolder> holder;
  // timerfd and steady_clock both read CLOCK_MONOTONIC (libstdc++ on Linux),
  // so release times can be armed as absolute timer deadlines.
  UniqueFd timer{timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC)};
  UniqueFd stop{eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)};

  // Learned from the timer's own wake-ups (see wake_up_latency.h).
  WakeUpLatency wake_up{kMaxSpinBeforeRelease};
  // The instant the timer is armed for, when the thread will sleep until it.
  std::optional<SteadyTime> sleeping_until;
  // The timer is armed wake_up.margin() before the next release.
  bool armed_early = false;
  SpinPolicy spin;

  // Packets read now: `arrived` estimates when they reached the queue.
  void receive(SteadyTime arrived) {
    const auto status = queue->receive_pending([this, arrived](const QueuedPacket& packet) {
      holder->on_packet(packet, arrived, std::chrono::steady_clock::now());
    });
    if (!status.ok()) std::cerr << "nfqueue engine: " << status.message() << "\n";
  }

  void release_due_and_rearm() {
    auto now = std::chrono::steady_clock::now();
    // Woken wake_up.margin() early (a sleeping thread wakes late): spin the
    // rest, still reading the queue, so the release is on time. At most
    // kMaxSpinBeforeRelease per release, and within spin's CPU budget.
    const SteadyTime spin_start = now;
    while (armed_early && !holder->empty() && holder->next_release() > now &&
           holder->next_release() - now <= wake_up.margin()) {
      pollfd readable{queue->fd(), POLLIN, 0};
      if (poll(&readable, 1, 0) > 0) receive(now);
      now = std::chrono::steady_clock::now();
    }
    if (armed_early) spin.spent(now, now - spin_start);
    holder->release_due(now);
    (void)queue->flush_verdicts();
    itimerspec next{};  // all zero disarms
    sleeping_until.reset();
    armed_early = false;
    if (!holder->empty()) {
      // Only a release with room to sleep before it is worth a spin: when
      // packets are due back to back (bulk traffic), spinning would take a
      // whole core from the traffic itself, so the thread sleeps until the
      // release and takes whatever is due when it wakes, as a batch.
      SteadyTime wake_at = holder->next_release() - wake_up.margin();
      now = std::chrono::steady_clock::now();
      armed_early = wake_at > now && spin.may_spin(now, holder->next_release(), wake_up.margin());
      if (!armed_early) wake_at = holder->next_release();
      next.it_value = to_timespec(wake_at);
      // A deadline already past fires at once: no sleep, nothing to learn.
      if (wake_at > now) sleeping_until = wake_at;
    }
    timerfd_settime(timer.get(), TFD_TIMER_ABSTIME, &next, nullptr);
  }

  void release_everything() {
    // A revert lets the packets in flight through rather than dropping them:
    // those held, and those queued but not yet read (unbinding would drop them).
    (void)queue->receive_pending([this](const QueuedPacket& packet) { holder->accept_unheld(packet); });
    holder->release_all(std::chrono::steady_clock::now());
    (void)queue->flush_verdicts();
  }
};

StatusOr<std::unique_ptr<NfqueueEngine>> NfqueueEngine::start(const EngineOptions& options) {
  std::unique_ptr<NfqueueEngine> engine(new NfqueueEngine(options));
  StatusOr<std::unique_ptr<Io>> io = unavailable("engine sockets not opened");
  if (options.network_namespace_fd < 0) {
    io = open_io(options);
  } else {
    // setns moves only the calling thread, and the caller's may be a pool
    // thread: a thread of our own enters the namespace, opens the sockets
    // (which stay in it for their life) and ends.
    // Nothing escapes it: an exception leaving a thread ends the agent.
    std::thread opener([&io, &options]() noexcept {
      try {
        if (Status entered = enter_network_namespace(options.network_namespace_fd); !entered.ok()) {
          io = entered.with_context("nfqueue engine (queue " + std::to_string(options.queue_number) + ")");
          return;
        }
        io = open_io(options);
      } catch (const std::exception& error) {
        io = internal_error(std::string("nfqueue engine: opening its sockets: ") + error.what());
      } catch (...) {
        io = internal_error("nfqueue engine: opening its sockets: unknown exception");
      }
    });
    opener.join();
  }
  if (!io.ok()) return io.status();
  engine->io_ = std::move(io).value();
  engine->thread_ = std::thread([raw = engine.get(), name = "chaos-nfq-" + std::to_string(options.queue_number)] {
    set_current_thread_name(name);
    raw->run();
  });
  return engine;
}

StatusOr<std::unique_ptr<NfqueueEngine::Io>> NfqueueEngine::open_io(const EngineOptions& options) {
  auto io = std::make_unique<Io>();
  if (io->timer.get() < 0 || io->stop.get() < 0) {
    return unavailable(std::string("cannot create engine timer/eventfd: ") + std::strerror(errno));
  }
  const auto& spec = options.impairment;
  // A pure loss fault never holds a packet: header prefixes of GSO packets
  // are enough, and much cheaper than segmenting and copying every packet.
  const bool holds_packets = spec.delay.count() > 0 || spec.jitter.count() > 0 || spec.rate_bits_per_second > 0;
  const bool duplicates = spec.duplicate_probability > 0;
  bool reinjects = holds_packets && options.reinject_local_packets;
  bool keep_gso = false;
  if (reinjects || duplicates) {
    auto sender = RawPacketSender::open(options.duplicate_mark, options.egress_interface);
    if (sender.ok()) {
      io->sender = std::move(sender).value();
      if (reinjects && !duplicates && options.resend_gso_whole && packet_socket_path_supported(options)) {
        // Super-packets go whole through a packet socket (one send per
        // 64 KiB instead of one per segment); without one, the raw path.
        auto gso = GsoPacketSender::open(options.duplicate_mark, std::move(io->sender));
        if (gso.ok()) {
          io->sender = std::move(gso).value();
          keep_gso = true;
        } else {
          std::cerr << "nfqueue engine (queue " << options.queue_number << "): " << gso.status().message()
                    << "; re-sending segment by segment\n";
          CHAOS_ASSIGN_OR_RETURN(io->sender, RawPacketSender::open(options.duplicate_mark, options.egress_interface));
        }
      }
    } else if (duplicates) {
      return sender.status().with_context("sending duplicates");
    } else {
      // Without CAP_NET_RAW a delay still works, with the throughput limit
      // of the verdict-only path (see packet_holder.h).
      std::cerr << "nfqueue engine (queue " << options.queue_number << "): " << sender.status().message()
                << "; delayed packets of local sockets wait in the kernel (bulk TCP will be slow)\n";
      reinjects = false;
    }
  }
  // Whole packets with their owner, so packets of local sockets can be
  // re-sent (see packet_holder.h).
  CHAOS_ASSIGN_OR_RETURN(io->queue, NfqueueSocket::open(QueueConfig{options.queue_number, options.queue_max_length,
                                                                    reinjects || duplicates, reinjects, keep_gso}));
  if (keep_gso && !io->queue->reports_conntrack()) {
    // Without a packet's conntrack status, the packet socket is safe only
    // where nothing is NATed; otherwise every super-packet takes the
    // verdict path.
    const auto nat = nat_chains_present();
    if (nat.ok() && !*nat) {
      static_cast<GsoPacketSender*>(io->sender.get())->assume_no_nat();
    } else {
      std::cerr << "nfqueue engine (queue " << options.queue_number << "): the kernel does not report conntrack "
                << "status to the queue and " << (nat.ok() ? std::string("NAT chains exist") : nat.status().message())
                << "; super-packets stay in the kernel\n";
    }
  }
  NfqueueSocket* queue = io->queue.get();
  io->holder = std::make_unique<PacketHolder>(
      options.impairment, options.seed,
      [queue](std::uint32_t packet_id, int verdict) { (void)queue->add_verdict(packet_id, verdict); },
      io->sender.get(), reinjects ? options.queue_max_length : 0, options.max_held_bytes);
  return io;
}

NfqueueEngine::NfqueueEngine(const EngineOptions& options) : options_(options) {}

NfqueueEngine::~NfqueueEngine() {
  if (thread_.joinable()) {
    const std::uint64_t one = 1;
    (void)!write(io_->stop.get(), &one, sizeof(one));
    thread_.join();
  }
}

EngineStats NfqueueEngine::stats() const { return io_->holder->stats(); }

std::chrono::nanoseconds NfqueueEngine::thread_cpu_time() const {
  clockid_t clock{};
  timespec used{};
  if (!thread_.joinable() || pthread_getcpuclockid(const_cast<std::thread&>(thread_).native_handle(), &clock) != 0 ||
      clock_gettime(clock, &used) != 0) {
    return std::chrono::nanoseconds{0};
  }
  return std::chrono::seconds(used.tv_sec) + std::chrono::nanoseconds(used.tv_nsec);
}

std::string NfqueueEngine::failure() const {
  std::lock_guard lock(failure_mutex_);
  return failure_;
}

void NfqueueEngine::fail(const std::string& why) {
  std::cerr << "nfqueue engine (queue " << options_.queue_number << "): stopped: " << why << "\n";
  std::lock_guard lock(failure_mutex_);
  if (failure_.empty()) failure_ = why;
}

void NfqueueEngine::enter_realtime() const {
  // The default 50 us timer slack would add up to 50 us to every release.
  prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
  if (options_.realtime_priority <= 0) return;
  sched_param priority{};
  priority.sched_priority = options_.realtime_priority;
  // Without CAP_SYS_NICE this fails and the engine runs, less precisely,
  // under the normal scheduler.
  if (pthread_setschedparam(pthread_self(), SCHED_FIFO, &priority) != 0) {
    std::cerr << "nfqueue engine (queue " << options_.queue_number
              << "): no real-time priority; delays may run late on a busy node\n";
  }
}

void NfqueueEngine::run() noexcept {
  try {
    loop();
    return;
  } catch (const std::exception& error) {
    fail(std::string("exception: ") + error.what());
  } catch (...) {
    fail("unknown exception");
  }
  // Let go of what we hold rather than leave it to the unbind (which drops).
  try {
    io_->release_everything();
  } catch (...) {
  }
}

void NfqueueEngine::loop() {
  enter_realtime();
  Io& io = *io_;
  pollfd fds[3] = {{io.queue->fd(), POLLIN, 0}, {io.timer.get(), POLLIN, 0}, {io.stop.get(), POLLIN, 0}};
  for (;;) {
    const SteadyTime slept_at = std::chrono::steady_clock::now();
    if (poll(fds, 3, -1) < 0) {
      if (errno == EINTR) continue;
      fail(std::string("poll: ") + std::strerror(errno));
      break;
    }
    const SteadyTime woke = std::chrono::steady_clock::now();
    if (fds[2].revents & POLLIN) break;
    if (fds[1].revents & POLLIN) {
      std::uint64_t expirations = 0;
      // Learn only from a wake-up the thread slept for (it entered poll
      // before the deadline), not from a deadline passed while it worked.
      if (read(io.timer.get(), &expirations, sizeof(expirations)) > 0 && expirations > 0 && io.sleeping_until &&
          slept_at <= *io.sleeping_until) {
        io.wake_up.observe(*io.sleeping_until, woke);
      }
    }
    if (fds[0].revents & (POLLIN | POLLERR)) {
      // A packet that woke us was queued about one wake-up latency ago,
      // and not before we went to sleep.
      io.receive(std::max(slept_at, woke - io.wake_up.typical()));
    }
    io.release_due_and_rearm();
  }
  io.release_everything();
}

}  // namespace chaos::agent::network
