// The proxy engine on real loopback sockets: an echo server upstream, the
// engine's fixed upstream standing in for the nft redirect (no root).
#include "agent/faults/proxy/proxy_engine.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <thread>
#include <vector>

#include "agent/faults/proxy/tcp_fault_filter.h"
#include "common/unique_fd.h"
#include "tests/unit/agent/faults/proxy/loopback_test_server.h"

namespace chaos::agent::proxy {
namespace {

using namespace std::chrono_literals;

UniqueFd connect_to(std::uint16_t port) {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  const timeval timeout{5, 0};
  ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  sockaddr_in address = proxy_test_loopback(port);
  EXPECT_EQ(::connect(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  return fd;
}

// Reads until `size` bytes, EOF or an error; errno of the error in `error`.
std::string read_up_to(int fd, std::size_t size, int* error = nullptr) {
  std::string bytes;
  char buffer[4096];
  while (bytes.size() < size) {
    const ssize_t count = ::recv(fd, buffer, std::min(sizeof buffer, size - bytes.size()), 0);
    if (count < 0 && error != nullptr) *error = errno;
    if (count <= 0) break;
    bytes.append(buffer, static_cast<std::size_t>(count));
  }
  return bytes;
}

// The engine counts after send() returns, which may be after the peer read.
std::uint64_t settled(const std::atomic<std::uint64_t>& counter, std::uint64_t expected) {
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (counter.load() != expected && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(1ms);
  }
  return counter.load();
}

class ProxyEngineTest : public ::testing::Test {
 protected:
  std::unique_ptr<ProxyEngine> start(TcpFaultSpec spec, std::size_t max_connections = 16) {
    spec.scope.port = echo_.port();
    factory_ = std::make_shared<TcpFilterFactory>(spec, 3);
    ProxyEngineOptions options;
    options.factory = factory_;
    options.fixed_upstream = "127.0.0.1:" + std::to_string(echo_.port());
    options.max_connections = max_connections;
    auto engine = ProxyEngine::start(std::move(options));
    EXPECT_TRUE(engine.ok()) << engine.status().message();
    return engine.ok() ? std::move(*engine) : nullptr;
  }

  static TcpFaultSpec pass_through() {
    TcpFaultSpec spec;
    spec.mode = TcpFaultMode::kLatency;
    spec.delay = 1ns;
    return spec;
  }

  LoopbackTestServer echo_{proxy_test_echo};
  std::shared_ptr<TcpFilterFactory> factory_;
};

TEST_F(ProxyEngineTest, ForwardsBothWaysAndCounts) {
  auto engine = start(pass_through());
  ASSERT_TRUE(engine);
  UniqueFd client = connect_to(engine->port());
  const std::string message(100000, 'm');
  std::thread writer([&] { ::send(client.get(), message.data(), message.size(), MSG_NOSIGNAL); });
  EXPECT_EQ(read_up_to(client.get(), message.size()), message);
  writer.join();
  EXPECT_EQ(engine->counters().accepted.load(), 1u);
  EXPECT_EQ(settled(engine->counters().bytes_client_to_server, message.size()), message.size());
  EXPECT_EQ(settled(engine->counters().bytes_server_to_client, message.size()), message.size());
  // A client's FIN reaches the server, whose FIN comes back as EOF.
  ::shutdown(client.get(), SHUT_WR);
  EXPECT_EQ(read_up_to(client.get(), 1), "");
}

TEST_F(ProxyEngineTest, LatencyDelaysTheRoundTripByAtLeastTheDelay) {
  TcpFaultSpec spec = pass_through();
  spec.delay = 80ms;
  spec.scope.server_to_client = false;
  auto engine = start(spec);
  ASSERT_TRUE(engine);
  UniqueFd client = connect_to(engine->port());
  const auto sent = std::chrono::steady_clock::now();
  ASSERT_EQ(::send(client.get(), "ping", 4, MSG_NOSIGNAL), 4);
  EXPECT_EQ(read_up_to(client.get(), 4), "ping");
  EXPECT_GE(std::chrono::steady_clock::now() - sent, 80ms);
}

TEST_F(ProxyEngineTest, ResetPeerAfterBytesResetsTheClient) {
  TcpFaultSpec spec;
  spec.mode = TcpFaultMode::kResetPeer;
  spec.after_bytes = 3;
  auto engine = start(spec);
  ASSERT_TRUE(engine);
  UniqueFd client = connect_to(engine->port());
  ASSERT_EQ(::send(client.get(), "abcdef", 6, MSG_NOSIGNAL), 6);
  int error = 0;
  read_up_to(client.get(), 100, &error);
  EXPECT_EQ(error, ECONNRESET);
  EXPECT_EQ(settled(engine->counters().resets, 1), 1u);
}

TEST_F(ProxyEngineTest, ResetPeerAfterTimeResetsAnIdleConnection) {
  TcpFaultSpec spec;
  spec.mode = TcpFaultMode::kResetPeer;
  spec.after = 50ms;
  auto engine = start(spec);
  ASSERT_TRUE(engine);
  UniqueFd client = connect_to(engine->port());
  int error = 0;
  read_up_to(client.get(), 1, &error);
  EXPECT_EQ(error, ECONNRESET);
}

TEST_F(ProxyEngineTest, LimitDataEndsTheStreamAfterTheBudget) {
  TcpFaultSpec spec;
  spec.mode = TcpFaultMode::kLimitData;
  spec.limit_bytes = 5;
  spec.scope.client_to_server = false;
  auto engine = start(spec);
  ASSERT_TRUE(engine);
  UniqueFd client = connect_to(engine->port());
  ASSERT_EQ(::send(client.get(), "0123456789", 10, MSG_NOSIGNAL), 10);
  EXPECT_EQ(read_up_to(client.get(), 100), "01234");
  EXPECT_EQ(settled(engine->counters().closes, 1), 1u);
}

TEST_F(ProxyEngineTest, ConnectionsOverTheBoundAreResetAndCounted) {
  auto engine = start(pass_through(), 1);
  ASSERT_TRUE(engine);
  UniqueFd first = connect_to(engine->port());
  ASSERT_EQ(::send(first.get(), "a", 1, MSG_NOSIGNAL), 1);
  EXPECT_EQ(read_up_to(first.get(), 1), "a");
  UniqueFd second = connect_to(engine->port());
  int error = 0;
  read_up_to(second.get(), 1, &error);
  EXPECT_EQ(error, ECONNRESET);
  EXPECT_EQ(settled(engine->counters().refused_over_limit, 1), 1u);
}

TEST_F(ProxyEngineTest, StopClosesProxiedConnectionsAndTheListener) {
  auto engine = start(pass_through());
  ASSERT_TRUE(engine);
  UniqueFd client = connect_to(engine->port());
  ASSERT_EQ(::send(client.get(), "a", 1, MSG_NOSIGNAL), 1);
  EXPECT_EQ(read_up_to(client.get(), 1), "a");
  const std::uint16_t port = engine->port();
  engine->stop();
  engine->stop();
  EXPECT_EQ(read_up_to(client.get(), 1), "");
  UniqueFd late(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in address = proxy_test_loopback(port);
  EXPECT_NE(::connect(late.get(), reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
}

TEST_F(ProxyEngineTest, SlowCloseDelaysTheFinButNotTheData) {
  TcpFaultSpec spec;
  spec.mode = TcpFaultMode::kSlowClose;
  spec.delay = 300ms;
  spec.scope.server_to_client = false;
  auto engine = start(spec);
  ASSERT_TRUE(engine);
  UniqueFd client = connect_to(engine->port());
  ASSERT_EQ(::send(client.get(), "ab", 2, MSG_NOSIGNAL), 2);
  EXPECT_EQ(read_up_to(client.get(), 2), "ab");
  const auto closed = std::chrono::steady_clock::now();
  ::shutdown(client.get(), SHUT_WR);
  // The echo server answers our FIN with its own: the EOF comes back only
  // once ours reached it.
  EXPECT_EQ(read_up_to(client.get(), 1), "");
  EXPECT_GE(std::chrono::steady_clock::now() - closed, 300ms);
}

TEST_F(ProxyEngineTest, TimeoutSwallowsTheAnswerThenCloses) {
  TcpFaultSpec spec;
  spec.mode = TcpFaultMode::kTimeout;
  spec.timeout = 200ms;
  spec.scope.client_to_server = false;
  auto engine = start(spec);
  ASSERT_TRUE(engine);
  // The timeout counts from when the proxy accepted the connection, which
  // may be before connect() returns here: the clock starts before it.
  const auto connecting = std::chrono::steady_clock::now();
  UniqueFd client = connect_to(engine->port());
  ASSERT_EQ(::send(client.get(), "ping", 4, MSG_NOSIGNAL), 4);
  EXPECT_EQ(read_up_to(client.get(), 4), "") << "the echo is dropped, then the connection ends";
  EXPECT_GE(std::chrono::steady_clock::now() - connecting, 200ms);
  EXPECT_EQ(settled(engine->counters().closes, 1), 1u);
  EXPECT_GE(settled(engine->counters().bytes_client_to_server, 4), 4u);
  EXPECT_EQ(engine->counters().bytes_server_to_client.load(), 0u);
}

TEST_F(ProxyEngineTest, BandwidthStretchesATransferToTheRate) {
  TcpFaultSpec spec;
  spec.mode = TcpFaultMode::kBandwidth;
  spec.bytes_per_second = 10'000;
  spec.scope.client_to_server = false;
  auto engine = start(spec);
  ASSERT_TRUE(engine);
  UniqueFd client = connect_to(engine->port());
  const std::string message(3000, 'b');
  const auto sent = std::chrono::steady_clock::now();
  ASSERT_EQ(::send(client.get(), message.data(), message.size(), MSG_NOSIGNAL), 3000);
  EXPECT_EQ(read_up_to(client.get(), message.size()), message);
  EXPECT_GE(std::chrono::steady_clock::now() - sent, 300ms) << "3000 bytes at 10000 bytes/s";
}

TEST_F(ProxyEngineTest, SlicerDeliversSeparateSegments) {
  TcpFaultSpec spec;
  spec.mode = TcpFaultMode::kSlicer;
  spec.slice_average = 1;
  // Far apart, so a thread stalled for a while on a loaded machine does
  // not take two segments in one read.
  spec.delay = 100ms;
  spec.scope.client_to_server = false;
  auto engine = start(spec);
  ASSERT_TRUE(engine);
  UniqueFd client = connect_to(engine->port());
  ASSERT_EQ(::send(client.get(), "abcdef", 6, MSG_NOSIGNAL), 6);
  std::string received;
  int reads = 0;
  char buffer[64];
  while (received.size() < 6) {
    const ssize_t count = ::recv(client.get(), buffer, sizeof buffer, 0);
    if (count <= 0) break;
    received.append(buffer, static_cast<std::size_t>(count));
    ++reads;
  }
  EXPECT_EQ(received, "abcdef");
  EXPECT_GE(reads, 3) << "segments 100 ms apart arrive as separate reads";
}

// Where no IPv6 exists (a kernel or namespace without it) the engine runs
// IPv4 only, which the test cannot exercise.
bool loopback6_available() {
  UniqueFd probe(::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in6 address{};
  address.sin6_family = AF_INET6;
  address.sin6_addr = in6addr_loopback;
  return probe.valid() && ::bind(probe.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
}

TEST_F(ProxyEngineTest, ServesIpv6ClientsOnTheSamePort) {
  if (!loopback6_available()) GTEST_SKIP() << "no ::1 here";
  auto engine = start(pass_through());
  ASSERT_NE(engine, nullptr);
  EXPECT_TRUE(engine->listens_ipv6());
  UniqueFd client(::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0));
  const timeval timeout{5, 0};
  ::setsockopt(client.get(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  sockaddr_in6 address{};
  address.sin6_family = AF_INET6;
  address.sin6_addr = in6addr_loopback;
  address.sin6_port = htons(engine->port());
  ASSERT_EQ(::connect(client.get(), reinterpret_cast<sockaddr*>(&address), sizeof address), 0) << errno;
  ASSERT_EQ(::send(client.get(), "six", 3, MSG_NOSIGNAL), 3);
  EXPECT_EQ(read_up_to(client.get(), 3), "six");
  EXPECT_EQ(settled(engine->counters().accepted, 1), 1u);
}

TEST_F(ProxyEngineTest, WithoutIpv6OnlyTheIpv4ListenerRuns) {
  factory_ = std::make_shared<TcpFilterFactory>(pass_through(), 3);
  ProxyEngineOptions options;
  options.factory = factory_;
  options.fixed_upstream = "127.0.0.1:" + std::to_string(echo_.port());
  options.ipv6 = false;
  auto engine = ProxyEngine::start(std::move(options));
  ASSERT_TRUE(engine.ok()) << engine.status().message();
  EXPECT_FALSE((*engine)->listens_ipv6());
  UniqueFd client = connect_to((*engine)->port());
  ASSERT_EQ(::send(client.get(), "four", 4, MSG_NOSIGNAL), 4);
  EXPECT_EQ(read_up_to(client.get(), 4), "four");
}

TEST_F(ProxyEngineTest, AnUnbracketedIpv6UpstreamIsRefused) {
  ProxyEngineOptions options;
  options.factory = std::make_shared<TcpFilterFactory>(pass_through(), 3);
  options.fixed_upstream = "::1:4222";
  auto engine = ProxyEngine::start(std::move(options));
  ASSERT_FALSE(engine.ok());
  EXPECT_EQ(engine.status().message(),
            "proxy: fixed upstream: \"::1:4222\": an IPv6 address needs brackets before a port (\"[::1]:4222\")");
}

}  // namespace
}  // namespace chaos::agent::proxy
