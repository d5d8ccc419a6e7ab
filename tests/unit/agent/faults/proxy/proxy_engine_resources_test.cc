// The proxy engine's resource bounds on real loopback sockets (no root):
// a read never overshoots the per-direction byte bound, a listener out of
// descriptors rests instead of spinning, then accepts again, and an IPv6
// listener that fails for want of descriptors fails the start.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <string>
#include <thread>

#include "agent/faults/proxy/proxy_engine.h"
#include "common/unique_fd.h"
#include "tests/unit/agent/faults/proxy/engine_quiet_check.h"
#include "tests/unit/agent/faults/proxy/loopback_test_server.h"

namespace chaos::agent::proxy {
namespace {

using namespace std::chrono_literals;

// Copies both ways (so nothing is spliced) and records its largest input.
class ResourcesTestFilter final : public StreamFilter {
 public:
  explicit ResourcesTestFilter(std::atomic<std::size_t>& largest) : largest_(largest) {}
  FilterVerdict on_bytes(Direction, std::string_view input, SteadyTime) override {
    std::size_t seen = largest_.load();
    while (input.size() > seen && !largest_.compare_exchange_weak(seen, input.size())) {
    }
    FilterVerdict verdict;
    verdict.forward.push_back(Emit{std::string(input)});
    return verdict;
  }
  FilterVerdict on_end(Direction, SteadyTime) override { return {}; }
  bool passes_through(Direction) const noexcept override { return false; }

 private:
  std::atomic<std::size_t>& largest_;
};

class ResourcesTestFactory final : public StreamFilterFactory {
 public:
  std::unique_ptr<StreamFilter> make(const ConnectionInfo&) override {
    return std::make_unique<ResourcesTestFilter>(largest);
  }
  std::atomic<std::size_t> largest{0};
};

std::unique_ptr<ProxyEngine> resources_test_engine(std::uint16_t upstream,
                                                   std::shared_ptr<ResourcesTestFactory> factory,
                                                   std::size_t max_queued_bytes) {
  ProxyEngineOptions options;
  options.factory = std::move(factory);
  options.fixed_upstream = "127.0.0.1:" + std::to_string(upstream);
  options.max_queued_bytes = max_queued_bytes;
  auto engine = ProxyEngine::start(std::move(options));
  EXPECT_TRUE(engine.ok()) << engine.status().message();
  return engine.ok() ? std::move(*engine) : nullptr;
}

StatusOr<std::unique_ptr<ProxyEngine>> resources_test_engine_status(std::uint16_t upstream) {
  ProxyEngineOptions options;
  options.factory = std::make_shared<ResourcesTestFactory>();
  options.fixed_upstream = "127.0.0.1:" + std::to_string(upstream);
  return ProxyEngine::start(std::move(options));
}

UniqueFd resources_test_connect(std::uint16_t port) {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  const timeval timeout{10, 0};
  ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(::connect(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  return fd;
}

std::string resources_test_read(int fd, std::size_t size) {
  std::string bytes;
  char buffer[64 * 1024];
  while (bytes.size() < size) {
    const ssize_t count = ::recv(fd, buffer, std::min(sizeof buffer, size - bytes.size()), 0);
    if (count <= 0) break;
    bytes.append(buffer, static_cast<std::size_t>(count));
  }
  return bytes;
}

// Puts the soft RLIMIT_NOFILE back however the test ends.
class ResourcesTestLimitGuard {
 public:
  ResourcesTestLimitGuard() { ::getrlimit(RLIMIT_NOFILE, &saved_); }
  ~ResourcesTestLimitGuard() { restore(); }
  void restore() { ::setrlimit(RLIMIT_NOFILE, &saved_); }
  // Room for exactly `more` new descriptors.
  bool allow_only(int more) {
    UniqueFd probe(::dup(0));
    if (!probe.valid()) return false;
    rlimit low = saved_;
    low.rlim_cur = static_cast<rlim_t>(probe.get() + more);
    probe.reset();
    return ::setrlimit(RLIMIT_NOFILE, &low) == 0;
  }

 private:
  rlimit saved_{};
};

TEST(ProxyEngineResources, AReadNeverOvershootsASmallByteBound) {
  LoopbackTestServer echo(proxy_test_echo);
  auto factory = std::make_shared<ResourcesTestFactory>();
  auto engine = resources_test_engine(echo.port(), factory, 4096);
  ASSERT_TRUE(engine);
  UniqueFd client = resources_test_connect(engine->port());
  const std::string sent(1 << 20, 'b');
  std::thread writer([&] { ::send(client.get(), sent.data(), sent.size(), MSG_NOSIGNAL); });
  EXPECT_EQ(resources_test_read(client.get(), sent.size()), sent);
  writer.join();
  // The bound's headroom plus one byte, not a whole 256 KiB read chunk.
  EXPECT_LE(factory->largest.load(), 4097u);
  EXPECT_GT(factory->largest.load(), 0u);
}

TEST(ProxyEngineResources, OutOfDescriptorsTheListenerRestsThenAcceptsAgain) {
  LoopbackTestServer echo(proxy_test_echo);
  auto engine = resources_test_engine(echo.port(), std::make_shared<ResourcesTestFactory>(), 1 << 20);
  ASSERT_TRUE(engine);
  ResourcesTestLimitGuard limit;
  ASSERT_TRUE(limit.allow_only(1));
  // The client's socket takes the last descriptor: the handshake completes
  // in the kernel, the engine's accept4() fails with EMFILE.
  UniqueFd client = resources_test_connect(engine->port());
  ASSERT_TRUE(client.valid());
  const std::uint64_t turns = fewest_event_wakeups_per_100ms(*engine);
  limit.restore();
  EXPECT_LE(turns, 2u) << "the engine busy-loops on a listener it cannot accept from";
  ASSERT_EQ(::send(client.get(), "ping", 4, MSG_NOSIGNAL), 4);
  EXPECT_EQ(resources_test_read(client.get(), 4), "ping");
  EXPECT_EQ(engine->counters().accepted.load(), 1u);
}

TEST(ProxyEngineResources, AnIpv6ListenerErrorOtherThanNoIpv6FailsTheStart) {
  if (!UniqueFd(::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0)).valid()) GTEST_SKIP() << "no IPv6 here";
  LoopbackTestServer echo(proxy_test_echo);
  StatusOr<std::unique_ptr<ProxyEngine>> engine = invalid_argument("not started");
  {
    // The eventfd, the epoll fd and the IPv4 listener: the IPv6 listener's
    // socket() fails with EMFILE, which is no sign of a namespace without
    // IPv6.
    ResourcesTestLimitGuard limit;
    ASSERT_TRUE(limit.allow_only(3));
    engine = resources_test_engine_status(echo.port());
  }
  ASSERT_FALSE(engine.ok()) << "started with IPv6: " << (*engine)->listens_ipv6();
  EXPECT_NE(engine.status().message().find("proxy: socket: "), std::string::npos) << engine.status().message();
  auto again = resources_test_engine_status(echo.port());
  ASSERT_TRUE(again.ok()) << again.status().message();
  EXPECT_TRUE((*again)->listens_ipv6());
}

}  // namespace
}  // namespace chaos::agent::proxy
