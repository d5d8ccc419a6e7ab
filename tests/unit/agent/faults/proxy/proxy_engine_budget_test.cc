// The agent-wide proxy byte budget on real loopback sockets (no root): what
// connections hold is charged and given back, senders that hold bytes are
// paused while it is used up and nothing is lost, a connection whose filter
// holds a partial message waits its turn and is delayed whole, and one
// whose message cannot fit while nothing is queued passes through.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "agent/faults/proxy/protocols/nats_fault_filter.h"
#include "agent/faults/proxy/proxy_byte_budget.h"
#include "agent/faults/proxy/proxy_engine.h"
#include "common/unique_fd.h"
#include "tests/unit/agent/faults/proxy/engine_quiet_check.h"
#include "tests/unit/agent/faults/proxy/loopback_test_server.h"

namespace chaos::agent::proxy {
namespace {

using namespace std::chrono_literals;

constexpr std::size_t kBudgetTestLimit = 1 << 20;

enum class SinkMode {
  kRead,               // reads every connection to its EOF
  kShutWriteThenRead,  // ends its own direction at once, then reads
  kNeverRead,          // a stalled consumer: accepts and reads nothing
};

// Keeps what each connection carried, by arrival.
class BudgetTestSink {
 public:
  explicit BudgetTestSink(SinkMode mode = SinkMode::kRead)
      : mode_(mode),
        // Small for a stalled consumer, so the proxy's queue, not the
        // kernel, holds what it sends.
        server_([this](int fd) { serve(fd); }, mode == SinkMode::kNeverRead ? 16 * 1024 : 0) {}
  ~BudgetTestSink() { stopping_ = true; }  // before server_ joins the handlers
  std::uint16_t port() const { return server_.port(); }
  // Waits for `count` streams to end; what they carried, sorted.
  std::vector<std::string> streams(std::size_t count) {
    const auto deadline = std::chrono::steady_clock::now() + 60s;
    while (std::chrono::steady_clock::now() < deadline) {
      {
        std::lock_guard lock(mutex_);
        if (streams_.size() >= count) {
          std::vector<std::string> sorted = streams_;
          std::sort(sorted.begin(), sorted.end());
          return sorted;
        }
      }
      std::this_thread::sleep_for(10ms);
    }
    return {};
  }

 private:
  void serve(int fd) {
    UniqueFd owned(fd);
    if (mode_ == SinkMode::kShutWriteThenRead) ::shutdown(fd, SHUT_WR);
    if (mode_ == SinkMode::kNeverRead) {
      while (!stopping_) std::this_thread::sleep_for(10ms);
      return;
    }
    const timeval timeout{30, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    std::string got;
    char buffer[64 * 1024];
    for (ssize_t count; (count = ::recv(fd, buffer, sizeof buffer, 0)) > 0;) {
      got.append(buffer, static_cast<std::size_t>(count));
    }
    std::lock_guard lock(mutex_);
    streams_.push_back(std::move(got));
  }

  const SinkMode mode_;
  std::atomic<bool> stopping_{false};
  std::mutex mutex_;
  std::vector<std::string> streams_;
  LoopbackTestServer server_;  // last: its handlers use the members above
};

// Holds every byte back for a while, in order (like tcp.latency).
class BudgetTestDelayFilter final : public StreamFilter {
 public:
  explicit BudgetTestDelayFilter(Duration delay) : delay_(delay) {}
  FilterVerdict on_bytes(Direction, std::string_view input, SteadyTime) override {
    FilterVerdict verdict;
    verdict.forward.push_back(Emit{std::string(input), delay_});
    return verdict;
  }
  FilterVerdict on_end(Direction, SteadyTime) override { return {}; }

 private:
  const Duration delay_;
};

class BudgetTestDelayFactory final : public StreamFilterFactory {
 public:
  explicit BudgetTestDelayFactory(Duration delay = 100ms) : delay_(delay) {}
  std::unique_ptr<StreamFilter> make(const ConnectionInfo&) override {
    return std::make_unique<BudgetTestDelayFilter>(delay_);
  }

 private:
  const Duration delay_;
};

std::unique_ptr<ProxyEngine> budget_test_engine(std::uint16_t upstream, std::shared_ptr<StreamFilterFactory> factory,
                                                std::shared_ptr<ProxyByteBudget> budget,
                                                Duration wait_for_partial_message = 5s) {
  ProxyEngineOptions options;
  options.budget_wait_for_partial_message = wait_for_partial_message;
  options.factory = std::move(factory);
  options.fixed_upstream = "127.0.0.1:" + std::to_string(upstream);
  // Far above the budget: the budget, not the connection's own bound, is
  // what holds the senders back here.
  options.max_queued_bytes = 64 << 20;
  options.budget = std::move(budget);
  auto engine = ProxyEngine::start(std::move(options));
  EXPECT_TRUE(engine.ok()) << engine.status().message();
  return engine.ok() ? std::move(*engine) : nullptr;
}

UniqueFd budget_test_connect(std::uint16_t port) {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  const timeval timeout{60, 0};
  ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  ::setsockopt(fd.get(), SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
  sockaddr_in address = proxy_test_loopback(port);
  EXPECT_EQ(::connect(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  return fd;
}

// Sends `bytes` on a new connection through the proxy, then its FIN.
std::thread budget_test_send(std::uint16_t port, const std::string& bytes) {
  return std::thread([port, &bytes] {
    UniqueFd client = budget_test_connect(port);
    std::size_t sent = 0;
    while (sent < bytes.size()) {
      const ssize_t count = ::send(client.get(), bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
      if (count <= 0) break;
      sent += static_cast<std::size_t>(count);
    }
    ::shutdown(client.get(), SHUT_WR);
    char byte;
    (void)::recv(client.get(), &byte, 1, 0);  // the proxy's FIN: the stream is through
  });
}

// The largest budget use seen while it runs.
class BudgetTestPeak {
 public:
  explicit BudgetTestPeak(const ProxyByteBudget& budget)
      : thread_([this, &budget] {
          while (!stopping_) {
            peak_ = std::max(peak_.load(), budget.used());
            std::this_thread::sleep_for(200us);
          }
        }) {}
  ~BudgetTestPeak() { stop(); }
  std::size_t stop() {
    stopping_ = true;
    if (thread_.joinable()) thread_.join();
    return peak_;
  }

 private:
  std::atomic<bool> stopping_{false};
  std::atomic<std::size_t> peak_{0};
  std::thread thread_;
};

bool budget_test_given_back(const ProxyByteBudget& budget) {
  for (int attempt = 0; attempt < 200 && budget.used() != 0; ++attempt) std::this_thread::sleep_for(10ms);
  return budget.used() == 0;
}

TEST(ProxyByteBudget, ChargesAddUpAndAreGivenBackWhenDestroyed) {
  auto budget = std::make_shared<ProxyByteBudget>(100);
  ProxyByteCharge first(budget);
  {
    ProxyByteCharge second(budget);
    first.set(50, 10);
    second.set(30, 0);
    EXPECT_EQ(budget->used(), 90u);
    EXPECT_EQ(budget->queued(), 80u);
    EXPECT_FALSE(budget->exhausted());
    second.set(0, 40);
    EXPECT_EQ(budget->used(), 100u);
    EXPECT_EQ(budget->queued(), 50u);
    EXPECT_TRUE(budget->exhausted());
  }
  EXPECT_EQ(budget->used(), 60u);
  EXPECT_EQ(budget->queued(), 50u);
  first.set(0, 10);
  EXPECT_EQ(budget->used(), 10u);
  EXPECT_EQ(budget->queued(), 0u);
  ProxyByteCharge unbudgeted(nullptr);
  unbudgeted.set(1000, 1000);
  EXPECT_EQ(budget->used(), 10u);
}

TEST(ProxyEngineBudget, AUsedUpBudgetPausesTheSendersAndLosesNothing) {
  BudgetTestSink sink;
  auto budget = std::make_shared<ProxyByteBudget>(kBudgetTestLimit);
  auto engine = budget_test_engine(sink.port(), std::make_shared<BudgetTestDelayFactory>(), budget);
  ASSERT_TRUE(engine);
  // Three connections, 3 MiB each, all held 100 ms: 9 MiB would be queued
  // at once without the budget.
  std::vector<std::string> sent;
  for (char fill : {'a', 'b', 'c'}) {
    std::string bytes(3 << 20, fill);
    for (std::size_t i = 0; i < bytes.size(); i += 4093) bytes[i] = static_cast<char>('0' + i % 10);
    sent.push_back(std::move(bytes));
  }
  BudgetTestPeak peak(*budget);
  std::vector<std::thread> senders;
  for (const std::string& bytes : sent) senders.push_back(budget_test_send(engine->port(), bytes));
  // (sorted below, once the senders that read it are done)
  const std::vector<std::string> received = sink.streams(sent.size());
  for (auto& sender : senders) sender.join();
  const std::size_t most = peak.stop();
  std::sort(sent.begin(), sent.end());
  ASSERT_EQ(received.size(), sent.size());
  for (std::size_t i = 0; i < sent.size(); ++i) {
    EXPECT_TRUE(received[i] == sent[i]) << "stream " << i << ": " << received[i].size() << " bytes of "
                                        << sent[i].size();
  }
  // A 16 KiB step and nothing held, per connection and direction.
  EXPECT_LE(most, kBudgetTestLimit + 3 * 2 * 16 * 1024);
  EXPECT_GE(most, kBudgetTestLimit) << "the budget was never used up: the test holds nothing back";
  EXPECT_GT(engine->counters().budget_pauses.load(), 0u);
  EXPECT_EQ(engine->counters().budget_pass_throughs.load(), 0u);
  EXPECT_TRUE(budget_test_given_back(*budget)) << budget->used() << " bytes still charged";
}

std::shared_ptr<NatsFilterFactory> budget_test_nats_delay(Duration delay) {
  NatsFaultConfig config;
  config.subjects.push_back(*NatsSubjectPattern::compile("orders.>"));
  config.action = NatsFaultAction::kDelay;
  config.delay = delay;
  config.limits.max_payload = 8 << 20;
  return std::make_shared<NatsFilterFactory>(config, 0, [] { return 0.0; });
}

std::string budget_test_nats_pub(const std::string& subject, std::size_t size, char fill) {
  return "PUB " + subject + " " + std::to_string(size) + "\r\n" + std::string(size, fill) + "\r\n";
}

TEST(ProxyEngineBudget, APartialMessageWaitsItsTurnAndIsDelayedWhole) {
  BudgetTestSink sink;
  auto budget = std::make_shared<ProxyByteBudget>(kBudgetTestLimit);
  auto factory = budget_test_nats_delay(100ms);
  auto engine = budget_test_engine(sink.port(), factory, budget);
  ASSERT_TRUE(engine);
  // One connection keeps the budget full with 48 delayed 64 KiB messages
  // (3 MiB); the other sends one 512 KiB message, which its filter must
  // hold whole before it can delay it.
  std::string flood;
  for (int i = 0; i < 48; ++i)
    flood += budget_test_nats_pub("orders.flood", 64 * 1024, static_cast<char>('a' + i % 26));
  const std::string large = budget_test_nats_pub("orders.large", 512 * 1024, 'L');
  BudgetTestPeak peak(*budget);
  std::thread flooder = budget_test_send(engine->port(), flood);
  std::this_thread::sleep_for(20ms);
  std::thread sender = budget_test_send(engine->port(), large);
  const std::vector<std::string> received = sink.streams(2);
  flooder.join();
  sender.join();
  const std::size_t most = peak.stop();
  ASSERT_EQ(received.size(), 2u);
  std::vector<std::string> sent = {flood, large};
  std::sort(sent.begin(), sent.end());
  EXPECT_TRUE(received[0] == sent[0] && received[1] == sent[1]);
  EXPECT_EQ(factory->counters().messages_delayed.load(), 49u);
  EXPECT_EQ(engine->counters().budget_pass_throughs.load(), 0u);
  EXPECT_GT(engine->counters().budget_pauses.load(), 0u);
  // A 16 KiB step on top of 16 KiB held, two connections.
  EXPECT_LE(most, kBudgetTestLimit + 2 * 2 * 32 * 1024);
  EXPECT_TRUE(budget_test_given_back(*budget)) << budget->used() << " bytes still charged";
}

// Nothing queued anywhere will free the budget: waiting cannot help.
TEST(ProxyEngineBudget, AMessageThatCannotFitWhileNothingIsQueuedPassesItsConnectionThrough) {
  BudgetTestSink sink;
  auto budget = std::make_shared<ProxyByteBudget>(kBudgetTestLimit);
  auto factory = budget_test_nats_delay(50ms);
  auto engine = budget_test_engine(sink.port(), factory, budget);
  ASSERT_TRUE(engine);
  const std::string payload(4 << 20, 'p');
  const std::string sent = "PUB orders.new 4194304\r\n" + payload + "\r\nPUB orders.old 5\r\nhello\r\n";
  BudgetTestPeak peak(*budget);
  std::thread sender = budget_test_send(engine->port(), sent);
  const std::vector<std::string> received = sink.streams(1);
  sender.join();
  const std::size_t most = peak.stop();
  ASSERT_EQ(received.size(), 1u);
  EXPECT_TRUE(received[0] == sent) << received[0].size() << " bytes of " << sent.size();
  EXPECT_EQ(engine->counters().budget_pass_throughs.load(), 1u);
  EXPECT_EQ(factory->counters().pass_through_connections.load(), 1u);
  EXPECT_EQ(factory->counters().last_pass_through_reason(), kProxyBudgetPassThroughReason);
  // Passed through before the message was whole: nothing was delayed.
  EXPECT_EQ(factory->counters().messages_delayed.load(), 0u);
  // The held message stopped at the limit plus one 16 KiB step at most.
  EXPECT_LE(most, kBudgetTestLimit + 16 * 1024);
  EXPECT_TRUE(budget_test_given_back(*budget)) << budget->used() << " bytes still charged";
}

TEST(ProxyEngineBudget, WithRoomLeftALargeMessageIsHeldAndDelayedWhole) {
  BudgetTestSink sink;
  auto budget = std::make_shared<ProxyByteBudget>(16 << 20);
  auto factory = budget_test_nats_delay(50ms);
  auto engine = budget_test_engine(sink.port(), factory, budget);
  ASSERT_TRUE(engine);
  const std::string sent = budget_test_nats_pub("orders.new", 4 << 20, 'p');
  std::thread sender = budget_test_send(engine->port(), sent);
  const std::vector<std::string> received = sink.streams(1);
  sender.join();
  ASSERT_EQ(received.size(), 1u);
  EXPECT_TRUE(received[0] == sent) << received[0].size() << " bytes of " << sent.size();
  EXPECT_EQ(factory->counters().messages_delayed.load(), 1u);
  EXPECT_EQ(engine->counters().budget_pass_throughs.load(), 0u);
  EXPECT_EQ(engine->counters().budget_pauses.load(), 0u);
  EXPECT_TRUE(budget_test_given_back(*budget)) << budget->used() << " bytes still charged";
}

bool budget_test_used_up(const ProxyByteBudget& budget) {
  for (int attempt = 0; attempt < 500 && !budget.exhausted(); ++attempt) std::this_thread::sleep_for(10ms);
  return budget.exhausted();
}

// A connection waiting with only a partial message has nothing of its own
// to wake it: only the 50 ms check lets it see room another fault freed.
TEST(ProxyEngineBudget, RoomAnotherFaultFreesReachesAWaitingPartialMessage) {
  BudgetTestSink sink;
  auto budget = std::make_shared<ProxyByteBudget>(kBudgetTestLimit);
  auto first = budget_test_engine(sink.port(), std::make_shared<BudgetTestDelayFactory>(300ms), budget);
  auto factory = budget_test_nats_delay(50ms);
  auto second = budget_test_engine(sink.port(), factory, budget);
  ASSERT_TRUE(first && second);
  const std::string flood(3 << 20, 'f');
  const std::string later = budget_test_nats_pub("orders.later", 512 * 1024, 's');
  std::thread flooder = budget_test_send(first->port(), flood);
  ASSERT_TRUE(budget_test_used_up(*budget));
  std::thread sender = budget_test_send(second->port(), later);
  const std::vector<std::string> received = sink.streams(2);
  flooder.join();
  sender.join();
  ASSERT_EQ(received.size(), 2u);
  EXPECT_TRUE(received[0] == later && received[1] == flood);  // sorted: 'P' < 'f'
  EXPECT_EQ(factory->counters().messages_delayed.load(), 1u);
  EXPECT_EQ(second->counters().budget_pass_throughs.load(), 0u);
  EXPECT_GT(second->counters().budget_pauses.load(), 0u);
  EXPECT_TRUE(budget_test_given_back(*budget)) << budget->used() << " bytes still charged";
}

// A consumer that never reads keeps its bytes queued for good: a partial
// message elsewhere waits its time, then passes through.
TEST(ProxyEngineBudget, APartialMessageBehindAStalledReaderPassesThroughAfterItsWait) {
  BudgetTestSink stalled(SinkMode::kNeverRead);
  BudgetTestSink sink;
  auto budget = std::make_shared<ProxyByteBudget>(kBudgetTestLimit);
  auto stuck = budget_test_engine(stalled.port(), std::make_shared<BudgetTestDelayFactory>(0ms), budget);
  auto factory = budget_test_nats_delay(50ms);
  auto engine = budget_test_engine(sink.port(), factory, budget, 300ms);
  ASSERT_TRUE(stuck && engine);
  // Far more than the kernel's buffers on the way take (the consumer's is
  // 16 KiB): the rest stays queued in the proxy.
  const std::string unread(16 << 20, 'u');
  std::thread stuck_sender([&] {
    UniqueFd client = budget_test_connect(stuck->port());
    ::send(client.get(), unread.data(), unread.size(), MSG_NOSIGNAL);  // ends at the 60 s send timeout or on close
  });
  ASSERT_TRUE(budget_test_used_up(*budget));
  ASSERT_GT(budget->queued(), 0u);
  const std::string sent = budget_test_nats_pub("orders.new", 512 * 1024, 'p');
  std::thread sender = budget_test_send(engine->port(), sent);
  const std::vector<std::string> received = sink.streams(1);
  sender.join();
  ASSERT_EQ(received.size(), 1u);
  EXPECT_TRUE(received[0] == sent) << received[0].size() << " bytes of " << sent.size();
  EXPECT_EQ(engine->counters().budget_pass_throughs.load(), 1u);
  EXPECT_GT(engine->counters().budget_pauses.load(), 0u);
  EXPECT_EQ(factory->counters().last_pass_through_reason(), kProxyBudgetPassThroughReason);
  stuck->stop();  // resets the stalled connection: the sender's send() returns
  stuck_sender.join();
  EXPECT_TRUE(budget_test_given_back(*budget)) << budget->used() << " bytes still charged";
}

// Our write to the client is shut (the server ended its direction) and the
// client's direction waits for room when the client's FIN comes: its
// socket then reports EPOLLHUP on every wait, which must not spin the loop.
TEST(ProxyEngineBudget, AWaitingSideWhosePeerEndedDoesNotSpin) {
  BudgetTestSink sink(SinkMode::kShutWriteThenRead);
  auto budget = std::make_shared<ProxyByteBudget>(kBudgetTestLimit);
  auto engine = budget_test_engine(sink.port(), std::make_shared<BudgetTestDelayFactory>(1s), budget);
  ASSERT_TRUE(engine);
  UniqueFd client = budget_test_connect(engine->port());
  char byte;
  ASSERT_EQ(::recv(client.get(), &byte, 1, 0), 0) << "the server's FIN should reach the client first";
  const std::string sent(2 << 20, 'w');
  ASSERT_EQ(::send(client.get(), sent.data(), sent.size(), MSG_NOSIGNAL), static_cast<ssize_t>(sent.size()));
  ::shutdown(client.get(), SHUT_WR);
  ASSERT_TRUE(budget_test_used_up(*budget));
  EXPECT_LE(fewest_event_wakeups_per_100ms(*engine, 800ms), 2u) << "the engine spins on a side it does not read";
  const std::vector<std::string> received = sink.streams(1);
  ASSERT_EQ(received.size(), 1u);
  EXPECT_TRUE(received[0] == sent) << received[0].size() << " bytes of " << sent.size();
}

}  // namespace
}  // namespace chaos::agent::proxy
