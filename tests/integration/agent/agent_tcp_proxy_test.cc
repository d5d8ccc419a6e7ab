// tcp.* through a real agent in namespace A: a TCP echo server in B, clients
// in A. Connections opened before the fault keep their direct path; new ones
// go through the proxy (tcp.latency: the round trip takes at least the
// delay; tcp.reset_peer: the client sees ECONNRESET); after revert new
// connections are direct again and A's ruleset is as before.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <functional>
#include <thread>
#include <vector>

#include "common/unique_fd.h"
#include "lab/testbed/agent_test_bed.h"

namespace chaos::agent::integration {
namespace {

using namespace std::chrono_literals;
using chaos::testing::address_of;
using chaos::testing::kAddressB;
using chaos::testing::NamespaceEntry;

constexpr int kTcpEchoPort = 7500;

// Echoes each connection until EOF, in namespace B.
class TcpEchoServer {
 public:
  explicit TcpEchoServer(const std::string& netns) {
    std::atomic<bool> ready{false};
    thread_ = std::thread([this, netns, &ready] {
      NamespaceEntry entry(netns);
      UniqueFd listener(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
      const int one = 1;
      ::setsockopt(listener.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
      const auto address = address_of("0.0.0.0", kTcpEchoPort);
      ::bind(listener.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address);
      ::listen(listener.get(), 16);
      ready = true;
      std::vector<std::thread> workers;
      while (!stop_) {
        pollfd wait{listener.get(), POLLIN, 0};
        if (::poll(&wait, 1, 20) <= 0) continue;
        const int fd = ::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC);
        if (fd < 0) continue;
        workers.emplace_back([this, fd] {
          UniqueFd owned(fd);
          char buffer[4096];
          while (!stop_) {
            pollfd readable{fd, POLLIN, 0};
            if (::poll(&readable, 1, 20) <= 0) continue;
            const ssize_t count = ::recv(fd, buffer, sizeof buffer, 0);
            if (count <= 0 || ::send(fd, buffer, static_cast<std::size_t>(count), MSG_NOSIGNAL) != count) return;
          }
        });
      }
      for (auto& worker : workers) worker.join();
    });
    while (!ready) std::this_thread::sleep_for(1ms);
  }
  ~TcpEchoServer() {
    stop_ = true;
    thread_.join();
  }

 private:
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// Runs `work` on a thread inside `netns`; sockets made there stay there.
void in_namespace(const std::string& netns, const std::function<void()>& work) {
  std::thread worker([&] {
    NamespaceEntry entry(netns);
    work();
  });
  worker.join();
}

UniqueFd connect_to_b() {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  const timeval timeout{10, 0};
  ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  const auto address = address_of(kAddressB, kTcpEchoPort);
  if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) fd.reset();
  return fd;
}

// One "ping" round trip; "" and errno in `error` when it fails.
std::string round_trip(int fd, int* error = nullptr) {
  if (::send(fd, "ping", 4, MSG_NOSIGNAL) != 4) {
    if (error != nullptr) *error = errno;
    return "";
  }
  std::string echoed;
  char buffer[16];
  while (echoed.size() < 4) {
    const ssize_t count = ::recv(fd, buffer, sizeof buffer, 0);
    if (count <= 0) {
      if (error != nullptr) *error = count < 0 ? errno : 0;
      return "";
    }
    echoed.append(buffer, static_cast<std::size_t>(count));
  }
  return echoed;
}

v1::TcpScope echo_scope() {
  v1::TcpScope scope;
  scope.set_port(kTcpEchoPort);
  scope.set_address(kAddressB);
  scope.set_origin(v1::TcpScope::ORIGIN_LOCAL);
  return scope;
}

bool proxy_table_listed(AgentTestBed& bed) {
  return bed.network().run_in_a({"nft", "list", "tables"}).stdout_text.find("chaos_tcp_") != std::string::npos;
}

class AgentTcpProxyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::make_unique<TempDir>("cag-tcp-" + std::to_string(::getpid()));
    bed_ = std::make_unique<AgentTestBed>();
    ASSERT_EQ(bed_->error(), "");
    echo_ = std::make_unique<TcpEchoServer>(bed_->network().b());
    agent_ = std::make_unique<NamespacedAgent>(bed_->a(), (*dir_ / "state").string(), (*dir_ / "agent.log").string());
    ASSERT_TRUE(agent_->start()) << agent_->log();
  }
  void TearDown() override {
    if (agent_) agent_->stop();
    agent_.reset();
    echo_.reset();
    bed_.reset();
    dir_.reset();
  }

  std::unique_ptr<TempDir> dir_;
  std::unique_ptr<AgentTestBed> bed_;
  std::unique_ptr<TcpEchoServer> echo_;
  std::unique_ptr<NamespacedAgent> agent_;
};

TEST_F(AgentTcpProxyTest, LatencySlowsNewConnectionsOnlyAndRevertRestoresDirectPaths) {
  auto baseline = bed_->snapshot();
  ASSERT_TRUE(baseline.ok()) << baseline.status().message();
  UniqueFd before;
  in_namespace(bed_->a(), [&] { before = connect_to_b(); });
  ASSERT_TRUE(before.valid());
  ASSERT_EQ(round_trip(before.get()), "ping");

  v1::FaultSpec spec;
  *spec.mutable_tcp_latency()->mutable_scope() = echo_scope();
  spec.mutable_tcp_latency()->mutable_delay()->set_nanos(200'000'000);
  v1::InjectResponse injected;
  const auto status = agent_->inject(inject_request(spec, "cag-tcp"), &injected);
  ASSERT_TRUE(status.ok()) << status.error_message() << "\n" << agent_->log();
  EXPECT_EQ(injected.fault().backend(), "tcp-proxy");
  EXPECT_TRUE(proxy_table_listed(*bed_));

  // The connection opened before the fault is not proxied.
  EXPECT_EQ(round_trip(before.get()), "ping");
  UniqueFd during;
  in_namespace(bed_->a(), [&] { during = connect_to_b(); });
  ASSERT_TRUE(during.valid());
  const auto sent = std::chrono::steady_clock::now();
  EXPECT_EQ(round_trip(during.get()), "ping");
  EXPECT_GE(std::chrono::steady_clock::now() - sent, 200ms) << "the new connection goes through the proxy";
  // The listed counters are refreshed about every second.
  std::uint64_t proxied = 0;
  for (const auto deadline = std::chrono::steady_clock::now() + 10s;
       proxied == 0 && std::chrono::steady_clock::now() < deadline; std::this_thread::sleep_for(100ms)) {
    v1::ListResponse listed;
    ASSERT_TRUE(agent_->list(&listed).ok());
    ASSERT_EQ(listed.faults_size(), 1);
    const auto& counters = listed.faults(0).counters();
    if (counters.count("connections_proxied") != 0) proxied = counters.at("connections_proxied");
  }
  EXPECT_EQ(proxied, 1u) << "only the new connection";

  ASSERT_TRUE(agent_->revert(injected.fault().id()).ok());
  EXPECT_FALSE(proxy_table_listed(*bed_));
  // Revert closes what the proxy carried; the direct connection lives on.
  EXPECT_EQ(round_trip(during.get()), "");
  EXPECT_EQ(round_trip(before.get()), "ping");
  UniqueFd after;
  in_namespace(bed_->a(), [&] { after = connect_to_b(); });
  ASSERT_TRUE(after.valid());
  EXPECT_EQ(round_trip(after.get()), "ping");
  EXPECT_EQ(bed_->diff_from(*baseline), "");
}

TEST_F(AgentTcpProxyTest, ResetPeerResetsNewConnections) {
  v1::FaultSpec spec;
  *spec.mutable_tcp_reset_peer()->mutable_scope() = echo_scope();
  spec.mutable_tcp_reset_peer()->set_after_bytes(1);
  v1::InjectResponse injected;
  const auto status = agent_->inject(inject_request(spec, "cag-tcp"), &injected);
  ASSERT_TRUE(status.ok()) << status.error_message() << "\n" << agent_->log();
  UniqueFd client;
  in_namespace(bed_->a(), [&] { client = connect_to_b(); });
  ASSERT_TRUE(client.valid());
  int error = 0;
  EXPECT_EQ(round_trip(client.get(), &error), "");
  EXPECT_EQ(error, ECONNRESET);
  ASSERT_TRUE(agent_->revert(injected.fault().id()).ok());
  EXPECT_FALSE(proxy_table_listed(*bed_));
}

}  // namespace
}  // namespace chaos::agent::integration
