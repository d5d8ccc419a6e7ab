#include "agent/faults/network/engine/nfqueue_engine.h"

// glibc's netinet/in.h must precede the kernel's linux/in.h (pulled in by
// linux/netfilter.h) so the uapi header skips its duplicate definitions.
#include <netinet/in.h>
#include <netinet/ip.h>
#include <linux/netfilter.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iostream>

#include "agent/faults/network/engine/nfqueue_socket.h"
#include "agent/faults/network/engine/release_queue.h"

namespace chaos::agent::network {

namespace {

class FileDescriptor {
 public:
  explicit FileDescriptor(int fd = -1) : fd_(fd) {}
  ~FileDescriptor() {
    if (fd_ >= 0) ::close(fd_);
  }
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  int get() const { return fd_; }
  void reset(int fd) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_;
};

timespec to_timespec(SteadyTime time) {
  const auto nanos = time.time_since_epoch().count();
  return timespec{static_cast<time_t>(nanos / 1'000'000'000), static_cast<long>(nanos % 1'000'000'000)};
}

}  // namespace

// Everything the engine thread owns; built on the caller's thread so that
// every socket lives in the caller's network namespace.
class NfqueueEngine::Io {
 public:
  Io(NfqueueEngine& engine, const ImpairmentSpec& spec, std::uint64_t seed)
      : engine_(engine), model_(spec, seed) {}

  std::unique_ptr<NfqueueSocket> queue;
  // timerfd and steady_clock both read CLOCK_MONOTONIC (libstdc++ on Linux),
  // so release times can be armed as absolute timer deadlines.
  FileDescriptor timer{timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC)};
  FileDescriptor stop{eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)};
  FileDescriptor raw;  // for duplicates only

  void on_packet(const QueuedPacket& packet);
  void release(std::vector<HeldPacket> packets);
  void release_due_and_rearm();
  void release_everything();

 private:
  void send_duplicate(const std::vector<unsigned char>& packet);

  NfqueueEngine& engine_;
  ImpairmentModel model_;
  ReleaseQueue held_;
};

void NfqueueEngine::Io::on_packet(const QueuedPacket& packet) {
  engine_.received_.fetch_add(1, std::memory_order_relaxed);
  const auto decision = model_.decide(std::chrono::steady_clock::now(), packet.length);
  if (decision.drop) {
    engine_.dropped_.fetch_add(1, std::memory_order_relaxed);
    (void)queue->add_verdict(packet.packet_id, NF_DROP);
    return;
  }
  std::vector<unsigned char> copy;
  if (decision.duplicate && raw.get() >= 0) copy.assign(packet.payload.begin(), packet.payload.end());
  held_.hold(decision.release_at, packet.packet_id, std::move(copy));
}

void NfqueueEngine::Io::release(std::vector<HeldPacket> packets) {
  const auto now = std::chrono::steady_clock::now();
  for (auto& packet : packets) {
    if (now > packet.release_at) {
      engine_.lateness_ns_total_.fetch_add(static_cast<std::uint64_t>((now - packet.release_at).count()),
                                           std::memory_order_relaxed);
    }
    (void)queue->add_verdict(packet.packet_id, NF_ACCEPT);
    if (!packet.duplicate_payload.empty()) send_duplicate(packet.duplicate_payload);
  }
  engine_.released_.fetch_add(packets.size(), std::memory_order_relaxed);
}

void NfqueueEngine::Io::release_due_and_rearm() {
  release(held_.take_due(std::chrono::steady_clock::now()));
  (void)queue->flush_verdicts();
  itimerspec next{};  // all zero disarms
  if (!held_.empty()) next.it_value = to_timespec(held_.next_release());
  timerfd_settime(timer.get(), TFD_TIMER_ABSTIME, &next, nullptr);
}

void NfqueueEngine::Io::release_everything() {
  // A revert lets the packets in flight through rather than dropping them:
  // those held, and those queued but not yet read (unbinding would drop them).
  (void)queue->receive_pending([this](const QueuedPacket& packet) {
    engine_.received_.fetch_add(1, std::memory_order_relaxed);
    (void)queue->add_verdict(packet.packet_id, NF_ACCEPT);
  });
  release(held_.take_all());
  (void)queue->flush_verdicts();
}

void NfqueueEngine::Io::send_duplicate(const std::vector<unsigned char>& packet) {
  if (packet.size() < sizeof(iphdr)) return;
  iphdr header;
  std::memcpy(&header, packet.data(), sizeof(header));
  // The raw socket speaks IPv4; IPv6 packets are passed on undoubled.
  if (header.version != 4) return;
  sockaddr_in destination{};
  destination.sin_family = AF_INET;
  destination.sin_addr.s_addr = header.daddr;
  if (sendto(raw.get(), packet.data(), packet.size(), 0, reinterpret_cast<sockaddr*>(&destination),
             sizeof(destination)) >= 0) {
    engine_.duplicated_.fetch_add(1, std::memory_order_relaxed);
  }
}

StatusOr<std::unique_ptr<NfqueueEngine>> NfqueueEngine::start(const EngineOptions& options) {
  std::unique_ptr<NfqueueEngine> engine(new NfqueueEngine(options));
  auto io = std::make_unique<Io>(*engine, options.impairment, options.seed);
  if (io->timer.get() < 0 || io->stop.get() < 0) {
    return unavailable(std::string("cannot create engine timer/eventfd: ") + std::strerror(errno));
  }
  const bool duplicates = options.impairment.duplicate_probability > 0;
  if (duplicates) {
    io->raw.reset(socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW));
    if (io->raw.get() < 0) {
      return unavailable(std::string("cannot open raw socket for duplicates: ") + std::strerror(errno));
    }
    // The mark lets the copy pass our steering rules instead of being
    // queued (and duplicated) again.
    if (setsockopt(io->raw.get(), SOL_SOCKET, SO_MARK, &options.duplicate_mark,
                   sizeof(options.duplicate_mark)) < 0) {
      return unavailable(std::string("cannot mark duplicate socket: ") + std::strerror(errno));
    }
  }
  CHAOS_ASSIGN_OR_RETURN(io->queue, NfqueueSocket::open(QueueConfig{
                                        options.queue_number, options.queue_max_length, duplicates}));
  engine->io_ = std::move(io);
  engine->thread_ = std::thread([raw = engine.get()] { raw->run(); });
  return engine;
}

NfqueueEngine::NfqueueEngine(const EngineOptions& options) : options_(options) {}

NfqueueEngine::~NfqueueEngine() {
  if (thread_.joinable()) {
    const std::uint64_t one = 1;
    (void)!write(io_->stop.get(), &one, sizeof(one));
    thread_.join();
  }
}

EngineStats NfqueueEngine::stats() const {
  return EngineStats{received_.load(), dropped_.load(), duplicated_.load(), released_.load(),
                     lateness_ns_total_.load()};
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

void NfqueueEngine::run() {
  enter_realtime();
  Io& io = *io_;
  const auto on_packet = [&io](const QueuedPacket& packet) { io.on_packet(packet); };
  pollfd fds[3] = {{io.queue->fd(), POLLIN, 0}, {io.timer.get(), POLLIN, 0}, {io.stop.get(), POLLIN, 0}};
  for (;;) {
    if (poll(fds, 3, -1) < 0) {
      if (errno == EINTR) continue;
      std::cerr << "nfqueue engine (queue " << options_.queue_number << "): poll: " << std::strerror(errno) << "\n";
      break;
    }
    if (fds[2].revents & POLLIN) break;
    if (fds[1].revents & POLLIN) {
      std::uint64_t expirations = 0;
      (void)!read(io.timer.get(), &expirations, sizeof(expirations));
    }
    if (fds[0].revents & (POLLIN | POLLERR)) {
      if (auto status = io.queue->receive_pending(on_packet); !status.ok()) {
        std::cerr << "nfqueue engine: " << status.message() << "\n";
      }
    }
    io.release_due_and_rearm();
  }
  io.release_everything();
}

}  // namespace chaos::agent::network
