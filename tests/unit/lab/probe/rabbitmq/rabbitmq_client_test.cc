// RabbitMqClient without a broker: what it answers when nothing listens, or
// when a peer accepts the TCP connection and then never speaks AMQP (as a
// paused broker does). Loopback only.
#include "lab/probe/rabbitmq/rabbitmq_client.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "metrics/registry.h"
#include "tests/support/free_loopback_port.h"

namespace chaos::lab::probe {
namespace {

using namespace std::chrono_literals;

// A listening loopback socket that never accepts: the kernel completes the
// handshake, nothing ever answers.
class SilentListener {
 public:
  SilentListener() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0 && ::listen(fd_, 4) == 0 &&
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length) == 0) {
      port_ = ntohs(address.sin_port);
    }
  }
  ~SilentListener() { ::close(fd_); }
  SilentListener(const SilentListener&) = delete;
  SilentListener& operator=(const SilentListener&) = delete;
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
};

class RabbitMqClientTest : public ::testing::Test {
 protected:
  std::unique_ptr<RabbitMqClient> client_for(int port) {
    SessionSettings session;
    session.servers = {"amqp://u:p@127.0.0.1:" + std::to_string(port)};
    RabbitMqSettings settings;
    settings.connection.connect_timeout = 300ms;
    settings.connection.rpc_timeout = 300ms;
    return std::make_unique<RabbitMqClient>(metrics_, session, settings);
  }

  metrics::Registry registry_;
  ProbeMetrics metrics_{registry_};
};

TEST_F(RabbitMqClientTest, NothingListeningIsUnavailableNamingTheServer) {
  const int port = test_support::free_loopback_port();
  ASSERT_GT(port, 0);
  auto client = client_for(port);
  const Status connected = client->connect();
  EXPECT_EQ(connected.code(), StatusCode::kUnavailable);
  EXPECT_NE(connected.message().find("connect to 127.0.0.1:" + std::to_string(port)), std::string::npos)
      << connected.message();
  EXPECT_EQ(connected.message().find("u:p"), std::string::npos) << "no credentials in messages";
  const Status published = client->publish("x", 1s, "");
  EXPECT_EQ(published.code(), StatusCode::kUnavailable);
  EXPECT_NE(published.message().find("publish: not connected"), std::string::npos) << published.message();
  EXPECT_EQ(metrics_.connected.value(), 0);
}

TEST_F(RabbitMqClientTest, APeerThatNeverSpeaksAmqpTimesTheLoginOut) {
  SilentListener silent;
  ASSERT_GT(silent.port(), 0);
  auto client = client_for(silent.port());
  const auto before = std::chrono::steady_clock::now();
  const Status connected = client->connect();
  EXPECT_LT(std::chrono::steady_clock::now() - before, 10s) << "bounded by the handshake timeout, not forever";
  EXPECT_EQ(connected.code(), StatusCode::kUnavailable);
  EXPECT_NE(connected.message().find("login to 127.0.0.1:" + std::to_string(silent.port())), std::string::npos)
      << connected.message();
}

TEST_F(RabbitMqClientTest, FetchNeedsASubscription) {
  auto client = client_for(test_support::free_loopback_port());
  EXPECT_EQ(client->fetch(10, 10ms).status().code(), StatusCode::kFailedPrecondition);
  const auto subscribed = client->subscribe();
  EXPECT_FALSE(subscribed.ok());
  EXPECT_EQ(client->fetch(10, 10ms).status().code(), StatusCode::kFailedPrecondition)
      << "a failed subscribe leaves no subscription";
}

TEST_F(RabbitMqClientTest, FailOverWithNoServerAnsweringReportsNoTarget) {
  auto client = client_for(test_support::free_loopback_port());
  auto moved = client->fail_over();
  ASSERT_TRUE(moved.ok());
  EXPECT_EQ(moved->from, "") << "was not connected";
  EXPECT_EQ(moved->to, "") << "still trying";
}

}  // namespace
}  // namespace chaos::lab::probe
