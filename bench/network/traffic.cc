#include "bench/network/traffic.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <ctime>
#include <optional>
#include <thread>
#include <vector>

#include "lab/testbed/network_test_bed.h"

namespace chaos::bench {

namespace {

using Clock = std::chrono::steady_clock;

sockaddr_in address_of(const std::string& address, int port) {
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(static_cast<std::uint16_t>(port));
  inet_pton(AF_INET, address.c_str(), &to.sin_addr);
  return to;
}

bool readable(int fd, int timeout_ms) {
  pollfd waiting{fd, POLLIN, 0};
  return poll(&waiting, 1, timeout_ms) > 0;
}

// Receives `streams` streams and reports their bytes per second together,
// from the first accept to the last EOF.
void receive_streams(int listener, int streams, std::atomic<double>& rate) {
  std::atomic<double> total{0};
  std::vector<std::thread> readers;
  Clock::time_point start;
  for (int i = 0; i < streams; ++i) {
    if (!readable(listener, 5000)) break;
    const int fd = accept(listener, nullptr, nullptr);
    if (fd < 0) break;
    if (i == 0) start = Clock::now();
    readers.emplace_back([fd, &total] {
      std::vector<char> buffer(1 << 17);
      double bytes = 0;
      for (;;) {
        const auto got = recv(fd, buffer.data(), buffer.size(), 0);
        if (got <= 0) break;
        bytes += static_cast<double>(got);
      }
      ::close(fd);
      total.fetch_add(bytes);
    });
  }
  for (auto& reader : readers) reader.join();
  if (readers.empty()) return;
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  if (seconds > 0) rate = total / seconds;
}

std::int64_t nanoseconds_of(const timespec& time) { return std::int64_t{time.tv_sec} * 1'000'000'000 + time.tv_nsec; }

// CLOCK_REALTIME, the clock of SO_TIMESTAMPNS.
std::int64_t realtime_ns() {
  timespec now{};
  clock_gettime(CLOCK_REALTIME, &now);
  return nanoseconds_of(now);
}

// One datagram read without waiting into `into`, with its SCM_TIMESTAMPNS
// (socket with SO_TIMESTAMPNS on): when it entered this host's stack,
// before any thread was woken for it. bytes < 0: nothing to read.
struct StampedDatagram {
  ssize_t bytes = -1;
  std::optional<std::int64_t> kernel_ns;
};

StampedDatagram receive_stamped(int fd, void* into, std::size_t size) {
  iovec data{into, size};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(timespec))];
  msghdr message{};
  message.msg_iov = &data;
  message.msg_iovlen = 1;
  message.msg_control = control;
  message.msg_controllen = sizeof(control);
  StampedDatagram datagram;
  datagram.bytes = recvmsg(fd, &message, MSG_DONTWAIT);
  if (datagram.bytes < 0) return datagram;
  for (cmsghdr* header = CMSG_FIRSTHDR(&message); header != nullptr; header = CMSG_NXTHDR(&message, header)) {
    if (header->cmsg_level != SOL_SOCKET || header->cmsg_type != SCM_TIMESTAMPNS) continue;
    timespec stamp{};
    std::memcpy(&stamp, CMSG_DATA(header), sizeof(stamp));
    datagram.kernel_ns = nanoseconds_of(stamp);
  }
  return datagram;
}

}  // namespace

std::vector<PacedRtts> paced_rtts(const std::string& address, const std::vector<int>& ports, int count, int gap_us) {
  struct Target {
    int fd = -1;
    std::vector<Clock::time_point> sent;
    std::vector<std::int64_t> sent_realtime_ns;
    std::vector<double> rtts;
    std::vector<double> to_kernel;
  };
  const auto probes = static_cast<std::size_t>(count);
  std::vector<Target> targets(ports.size());
  std::vector<pollfd> waiting;
  for (std::size_t i = 0; i < ports.size(); ++i) {
    Target& target = targets[i];
    target.fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    const int on = 1;
    setsockopt(target.fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof(on));
    const auto to = address_of(address, ports[i]);
    connect(target.fd, reinterpret_cast<const sockaddr*>(&to), sizeof(to));
    target.sent.resize(probes);
    target.sent_realtime_ns.resize(probes);
    target.rtts.assign(probes, -1);
    target.to_kernel.assign(probes, -1);
    waiting.push_back({target.fd, POLLIN, 0});
  }
  auto read_answers = [&](Target& target) {
    for (;;) {
      const auto now = Clock::now();
      int sequence = -1;
      const auto datagram = receive_stamped(target.fd, &sequence, sizeof(sequence));
      if (datagram.bytes < 0) return;
      if (datagram.bytes < 4 || sequence < 0 || sequence >= count) continue;
      const auto index = static_cast<std::size_t>(sequence);
      if (target.rtts[index] >= 0) continue;
      target.rtts[index] = std::chrono::duration<double, std::milli>(now - target.sent[index]).count();
      if (datagram.kernel_ns) {
        target.to_kernel[index] = static_cast<double>(*datagram.kernel_ns - target.sent_realtime_ns[index]) / 1e6;
      }
    }
  };
  auto receive = [&](int timeout_ms) {
    while (poll(waiting.data(), waiting.size(), timeout_ms) > 0) {
      for (std::size_t i = 0; i < targets.size(); ++i) {
        // Also on POLLERR alone (an ICMP port unreachable on the connected
        // socket): the read takes the error, else poll reports it forever.
        if (waiting[i].revents != 0) read_answers(targets[i]);
      }
      timeout_ms = 0;
    }
  };
  // The ports take turns, evenly spread over each gap, so every port sees
  // one probe per gap and the same moments of the machine.
  // Signed arithmetic throughout: an unsigned count would wrap when the
  // clock passes `due` between the check and the subtraction below.
  const auto step =
      std::chrono::microseconds(static_cast<long>(gap_us)) / std::max(1L, static_cast<long>(targets.size()));
  const auto start = Clock::now();
  long turn = 0;
  for (std::size_t index = 0; index < probes; ++index) {
    for (Target& target : targets) {
      const auto due = start + step * turn++;
      while (Clock::now() < due) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(due - Clock::now()).count();
        receive(static_cast<int>(std::max<long>(0, left)));
        if (left <= 0) break;
      }
      const int sequence = static_cast<int>(index);
      target.sent_realtime_ns[index] = realtime_ns();
      target.sent[index] = Clock::now();
      send(target.fd, &sequence, sizeof(sequence), 0);
      receive(0);
    }
  }
  const auto deadline = Clock::now() + std::chrono::seconds(3);
  while (Clock::now() < deadline && poll(waiting.data(), waiting.size(), 100) > 0) receive(0);
  std::vector<PacedRtts> results(targets.size());
  for (std::size_t i = 0; i < targets.size(); ++i) {
    ::close(targets[i].fd);
    for (std::size_t probe = 0; probe < probes; ++probe) {
      if (targets[i].rtts[probe] >= 0) results[i].rtt_ms.push_back(targets[i].rtts[probe]);
      if (targets[i].to_kernel[probe] >= 0) results[i].to_kernel_ms.push_back(targets[i].to_kernel[probe]);
    }
  }
  return results;
}

std::vector<double> paced_rtts_ms(const std::string& address, int port, int count, int gap_us) {
  return paced_rtts(address, {port}, count, gap_us).front().rtt_ms;
}

std::vector<double> paced_one_way_ms(const std::string& receiver_namespace, const std::string& address, int port,
                                     int count, int gap_us) {
  struct Probe {
    int sequence;
    std::int64_t sent_ns;  // CLOCK_REALTIME, as SO_TIMESTAMPNS
  };
  std::vector<double> one_way(static_cast<std::size_t>(count), -1);
  std::atomic<int> received{0};
  std::atomic<bool> stop{false};
  std::atomic<int> ready{0};  // 1 listening, -1 failed
  std::thread receiver([&] {
    chaos::testing::NamespaceEntry in_receiver(receiver_namespace);
    const int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    const int on = 1;
    setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof(on));
    const auto at = address_of(address, port);
    if (bind(fd, reinterpret_cast<const sockaddr*>(&at), sizeof(at)) != 0) {
      ready = -1;
      ::close(fd);
      return;
    }
    ready = 1;
    while (!stop) {
      if (!readable(fd, 50)) continue;
      Probe probe{};
      const auto datagram = receive_stamped(fd, &probe, sizeof(probe));
      if (datagram.bytes != static_cast<ssize_t>(sizeof(probe))) continue;
      if (probe.sequence < 0 || probe.sequence >= count) continue;
      if (datagram.kernel_ns) {
        one_way[static_cast<std::size_t>(probe.sequence)] =
            static_cast<double>(*datagram.kernel_ns - probe.sent_ns) / 1e6;
        ++received;
      }
    }
    ::close(fd);
  });
  while (ready == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  if (ready == 1) {
    const int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    const auto to = address_of(address, port);
    connect(fd, reinterpret_cast<const sockaddr*>(&to), sizeof(to));
    const auto start = Clock::now();
    for (int sequence = 0; sequence < count; ++sequence) {
      std::this_thread::sleep_until(start + std::chrono::microseconds(static_cast<long>(gap_us) * sequence));
      const Probe probe{sequence, realtime_ns()};
      send(fd, &probe, sizeof(probe), 0);
    }
    ::close(fd);
    const auto deadline = Clock::now() + std::chrono::seconds(3);
    while (received < count && Clock::now() < deadline) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  stop = true;
  receiver.join();
  std::vector<double> arrived;
  for (double value : one_way) {
    if (value >= 0) arrived.push_back(value);
  }
  return arrived;
}

std::optional<double> tcp_throughput_bytes_per_second(const std::string& receiver_namespace,
                                                      const std::string& address, int port, double seconds,
                                                      int streams) {
  std::atomic<double> rate{-1};
  std::atomic<int> listener{-1};
  std::atomic<bool> listening{false};
  std::thread receiver([&] {
    chaos::testing::NamespaceEntry in_receiver(receiver_namespace);
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    const int yes = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
    const auto at = address_of(address, port);
    if (bind(fd, reinterpret_cast<const sockaddr*>(&at), sizeof(at)) == 0 && ::listen(fd, streams) == 0) {
      listener = fd;
      listening = true;
      receive_streams(fd, streams, rate);
    }
    listening = true;
    ::close(fd);
  });
  while (!listening) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  if (listener >= 0) {
    // Connected here, so every stream leaves from the caller's namespace.
    std::vector<int> fds;
    const auto to = address_of(address, port);
    for (int i = 0; i < streams; ++i) {
      const int fd = socket(AF_INET, SOCK_STREAM, 0);
      if (connect(fd, reinterpret_cast<const sockaddr*>(&to), sizeof(to)) != 0) {
        ::close(fd);
        break;
      }
      fds.push_back(fd);
    }
    const auto end = Clock::now() + std::chrono::duration<double>(seconds);
    std::vector<std::thread> senders;
    for (const int fd : fds) {
      senders.emplace_back([fd, end] {
        std::vector<char> chunk(1 << 17, 'x');
        while (Clock::now() < end) {
          if (send(fd, chunk.data(), chunk.size(), MSG_NOSIGNAL) < 0) break;
        }
        shutdown(fd, SHUT_WR);
      });
    }
    for (auto& sender : senders) sender.join();
    for (const int fd : fds) ::close(fd);
    if (static_cast<int>(fds.size()) < streams) rate = -1;
  }
  receiver.join();
  if (rate < 0) return std::nullopt;
  return rate.load();
}

}  // namespace chaos::bench
