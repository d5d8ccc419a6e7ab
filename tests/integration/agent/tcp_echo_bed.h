// What the tcp.* integration tests share: a TCP echo server in namespace
// B, clients in A, and a fixture with a real agent in A.
#pragma once

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

namespace chaos::agent::integration::tcp_bed {

using namespace std::chrono_literals;
using chaos::testing::address_of;
using chaos::testing::kAddressB;
using chaos::testing::NamespaceEntry;

constexpr int kTcpEchoPort = 7500;

// Echoes each connection until EOF, in namespace B, on 0.0.0.0 or (for
// AF_INET6) on :: (IPv6 only).
class TcpEchoServer {
 public:
  explicit TcpEchoServer(const std::string& netns, int family = AF_INET) {
    std::atomic<bool> ready{false};
    thread_ = std::thread([this, netns, family, &ready] {
      NamespaceEntry entry(netns);
      UniqueFd listener(::socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0));
      const int one = 1;
      ::setsockopt(listener.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
      if (family == AF_INET6) {
        ::setsockopt(listener.get(), IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
        sockaddr_in6 address{};
        address.sin6_family = AF_INET6;
        address.sin6_port = htons(kTcpEchoPort);
        ::bind(listener.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address);
      } else {
        const auto address = address_of("0.0.0.0", kTcpEchoPort);
        ::bind(listener.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address);
      }
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
inline void in_namespace(const std::string& netns, const std::function<void()>& work) {
  std::thread worker([&] {
    NamespaceEntry entry(netns);
    work();
  });
  worker.join();
}

inline UniqueFd connect_to_b() {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  const timeval timeout{10, 0};
  ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  const auto address = address_of(kAddressB, kTcpEchoPort);
  if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) fd.reset();
  return fd;
}

// One "ping" round trip; "" and errno in `error` when it fails.
inline std::string round_trip(int fd, int* error = nullptr) {
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

inline v1::TcpScope echo_scope() {
  v1::TcpScope scope;
  scope.set_port(kTcpEchoPort);
  scope.set_address(kAddressB);
  scope.set_origin(v1::TcpScope::ORIGIN_LOCAL);
  return scope;
}

inline bool proxy_table_listed(AgentTestBed& bed) {
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

}  // namespace chaos::agent::integration::tcp_bed
