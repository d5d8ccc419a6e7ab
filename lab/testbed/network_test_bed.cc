#include "lab/testbed/network_test_bed.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <optional>
#include <set>
#include <stdexcept>

namespace chaos::testing {

namespace {

using Clock = std::chrono::steady_clock;

int open_namespace(const std::string& name) {
  return ::open(("/var/run/netns/" + name).c_str(), O_RDONLY | O_CLOEXEC);
}


int udp_socket_to(const std::string& ip, int port) {
  const int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  const int buffer = 4 << 20;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buffer, sizeof(buffer));
  setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &buffer, sizeof(buffer));
  auto address = address_of(ip, port);
  connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address));
  return fd;
}

// The measuring threads run SCHED_FIFO while they measure: on a loaded
// 2-core machine a normal thread sleeping through a 50 ms delay wakes
// milliseconds late, which would be charged to the fault under test.
class RealtimeWhileAlive {
 public:
  RealtimeWhileAlive() {
    pthread_getschedparam(pthread_self(), &policy_, &previous_);
    sched_param realtime{};
    realtime.sched_priority = 20;
    active_ = pthread_setschedparam(pthread_self(), SCHED_FIFO, &realtime) == 0;
  }
  ~RealtimeWhileAlive() {
    if (active_) pthread_setschedparam(pthread_self(), policy_, &previous_);
  }
  RealtimeWhileAlive(const RealtimeWhileAlive&) = delete;
  RealtimeWhileAlive& operator=(const RealtimeWhileAlive&) = delete;

 private:
  int policy_ = SCHED_OTHER;
  sched_param previous_{};
  bool active_ = false;
};

bool wait_readable(int fd, int timeout_ms) {
  pollfd entry{fd, POLLIN, 0};
  return poll(&entry, 1, timeout_ms) > 0;
}

}  // namespace

NamespaceEntry::NamespaceEntry(const std::string& namespace_name) {
  original_ = ::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  const int target = open_namespace(namespace_name);
  if (original_ < 0 || target < 0 || setns(target, CLONE_NEWNET) != 0) {
    if (target >= 0) ::close(target);
    throw std::runtime_error("cannot enter network namespace " + namespace_name);
  }
  ::close(target);
}

NamespaceEntry::~NamespaceEntry() {
  if (original_ >= 0) {
    (void)setns(original_, CLONE_NEWNET);
    ::close(original_);
  }
}

UdpEchoServer::UdpEchoServer(const std::string& namespace_name, int port) {
  thread_ = std::thread([this, namespace_name, port] {
    // A server that is not listening would make every probe look lost:
    // the constructor throws what went wrong instead.
    std::optional<NamespaceEntry> entry;
    try {
      entry.emplace(namespace_name);
    } catch (const std::exception& error) {
      failure_ = error.what();
      ready_ = true;
      return;
    }
    RealtimeWhileAlive realtime;
    const int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    const int buffer = 4 << 20;
    if (fd >= 0) setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buffer, sizeof(buffer));
    auto address = address_of("0.0.0.0", port);
    if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
      failure_ = "UDP echo server in " + namespace_name + ": cannot bind port " + std::to_string(port) + ": " +
                 std::strerror(errno);
      if (fd >= 0) ::close(fd);
      ready_ = true;
      return;
    }
    ready_ = true;
    char data[2048];
    while (!stop_) {
      if (!wait_readable(fd, 20)) continue;
      sockaddr_in peer{};
      socklen_t length = sizeof(peer);
      const auto got = recvfrom(fd, data, sizeof(data), MSG_DONTWAIT, reinterpret_cast<sockaddr*>(&peer), &length);
      if (got <= 0) continue;
      received_.fetch_add(1);
      sendto(fd, data, static_cast<std::size_t>(got), 0, reinterpret_cast<sockaddr*>(&peer), length);
    }
    ::close(fd);
  });
  while (!ready_) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  if (!failure_.empty()) {
    thread_.join();
    throw std::runtime_error(failure_);
  }
}

UdpEchoServer::~UdpEchoServer() {
  stop_ = true;
  thread_.join();
}

NetworkTestBed::NetworkTestBed(const std::string& instance) {
  const std::string id = std::to_string(getpid()) + instance;
  a_ = "cnt-a-" + id;
  b_ = "cnt-b-" + id;
  c_ = "cnt-c-" + id;
  link_ab_ = "cntab" + id;
  const std::string link_ba = "cntba" + id, link_ac = "cntac" + id, link_ca = "cntca" + id;
  const std::vector<std::vector<std::string>> setup = {
      {"ip", "netns", "add", a_},
      {"ip", "netns", "add", b_},
      {"ip", "netns", "add", c_},
      {"ip", "-n", a_, "link", "add", link_ab_, "type", "veth", "peer", "name", link_ba, "netns", b_},
      {"ip", "-n", a_, "link", "add", link_ac, "type", "veth", "peer", "name", link_ca, "netns", c_},
      {"ip", "-n", a_, "addr", "add", std::string(kAddressA) + "/30", "dev", link_ab_},
      {"ip", "-n", a_, "addr", "add", std::string(kAddressAtoC) + "/30", "dev", link_ac},
      {"ip", "-n", b_, "addr", "add", std::string(kAddressB) + "/30", "dev", link_ba},
      {"ip", "-n", c_, "addr", "add", std::string(kAddressC) + "/30", "dev", link_ca},
      {"ip", "-n", a_, "link", "set", link_ab_, "up"},
      {"ip", "-n", a_, "link", "set", link_ac, "up"},
      {"ip", "-n", b_, "link", "set", link_ba, "up"},
      {"ip", "-n", c_, "link", "set", link_ca, "up"},
      {"ip", "-n", a_, "link", "set", "lo", "up"},
      {"ip", "-n", b_, "link", "set", "lo", "up"},
      {"ip", "-n", c_, "link", "set", "lo", "up"},
  };
  for (const auto& argv : setup) {
    if (!commands_.run_checked(argv).ok()) return;
  }
  ok_ = true;
}

NetworkTestBed::~NetworkTestBed() {
  for (const auto& name : {a_, b_, c_}) (void)commands_.run({"ip", "netns", "del", name});
}

CommandResult NetworkTestBed::run_in_a(const std::vector<std::string>& argv) {
  std::vector<std::string> full{"ip", "netns", "exec", a_};
  full.insert(full.end(), argv.begin(), argv.end());
  auto result = commands_.run(full);
  return result.ok() ? *result : CommandResult{-1, "", result.status().message()};
}

std::string NetworkTestBed::kernel_state_of_a() {
  return run_in_a({"nft", "list", "ruleset"}).stdout_text + run_in_a({"iptables-save"}).stdout_text +
         run_in_a({"tc", "qdisc", "show"}).stdout_text;
}

std::string NetworkTestBed::full_ruleset_of_a() {
  return run_in_a({"nft", "--stateless", "list", "ruleset"}).stdout_text +
         run_in_a({"tc", "qdisc", "show"}).stdout_text;
}

std::vector<std::optional<double>> measure_rtts_ms(const std::string& address, int port, int count,
                                                   int timeout_ms, int payload_bytes) {
  RealtimeWhileAlive realtime;
  const int fd = udp_socket_to(address, port);
  std::vector<std::optional<double>> rtts;
  std::vector<char> payload(static_cast<std::size_t>(std::max(payload_bytes, 8)), 'x');
  for (int sequence = 0; sequence < count; ++sequence) {
    std::memcpy(payload.data(), &sequence, sizeof(sequence));
    const auto sent = Clock::now();
    send(fd, payload.data(), payload.size(), 0);
    std::optional<double> rtt;
    const auto deadline = sent + std::chrono::milliseconds(timeout_ms);
    while (Clock::now() < deadline) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
      if (!wait_readable(fd, static_cast<int>(left) + 1)) continue;
      char reply[2048];
      const auto got = recv(fd, reply, sizeof(reply), MSG_DONTWAIT);
      int echoed = -1;
      if (got >= 4) std::memcpy(&echoed, reply, sizeof(echoed));
      if (echoed == sequence) {
        rtt = std::chrono::duration<double, std::milli>(Clock::now() - sent).count();
        break;
      }
    }
    rtts.push_back(rtt);
  }
  ::close(fd);
  return rtts;
}

double median_ms(const std::vector<std::optional<double>>& rtts) {
  std::vector<double> values;
  for (const auto& rtt : rtts) {
    if (rtt) values.push_back(*rtt);
  }
  if (values.empty()) return -1;
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

int answered(const std::vector<std::optional<double>>& rtts) {
  return static_cast<int>(std::count_if(rtts.begin(), rtts.end(), [](const auto& rtt) { return rtt.has_value(); }));
}

int count_echoes(const std::string& address, int port, int count, int gap_us) {
  const int fd = udp_socket_to(address, port);
  std::set<int> seen;
  auto drain = [&](int timeout_ms) {
    while (wait_readable(fd, timeout_ms)) {
      int echoed = -1;
      if (recv(fd, &echoed, sizeof(echoed), MSG_DONTWAIT) >= 4) seen.insert(echoed);
    }
  };
  for (int sequence = 0; sequence < count; ++sequence) {
    send(fd, &sequence, sizeof(sequence), 0);
    std::this_thread::sleep_for(std::chrono::microseconds(gap_us));
    drain(0);
  }
  drain(500);
  ::close(fd);
  return static_cast<int>(seen.size());
}

sockaddr_in address_of(const std::string& ip, int port) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  inet_pton(AF_INET, ip.c_str(), &address.sin_addr);
  return address;
}
}  // namespace chaos::testing
