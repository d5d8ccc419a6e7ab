// The responder on real loopback sockets (no root: no SO_MARK, no nft),
// with a fake upstream resolver and a FakeClock for the delay mode.
#include "agent/faults/dns/dns_stub_responder.h"

#include <gtest/gtest.h>

#include <cstring>
#include <functional>
#include <stdexcept>
#include <thread>

#include "tests/unit/agent/faults/dns/dns_test_client.h"

namespace chaos::agent::dns {
namespace {

using namespace std::chrono_literals;
using testing::make_query;
using testing::Packet;

// Polls `condition` until it holds or the deadline passes (a bound against
// hangs, not a timing expectation).
bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds deadline = 10000ms) {
  const auto end = std::chrono::steady_clock::now() + deadline;
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= end) return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

void send_udp(std::uint16_t port, const Packet& query) {
  const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  const sockaddr_in to = testing::loopback(port);
  ::sendto(fd, query.data(), query.size(), 0, reinterpret_cast<const sockaddr*>(&to), sizeof to);
  ::close(fd);
}

// A resolver that takes queries and never answers: forwarding to it holds a
// worker for the upstream timeout.
class SilentUpstream {
 public:
  SilentUpstream() {
    fd_ = ::socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in address = testing::loopback(0);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address);
    socklen_t length = sizeof address;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
  }
  ~SilentUpstream() { ::close(fd_); }
  std::uint16_t port() const { return port_; }
  bool received_something() const {
    pollfd ready{fd_, POLLIN, 0};
    return ::poll(&ready, 1, 0) == 1;
  }

 private:
  int fd_ = -1;
  std::uint16_t port_ = 0;
};

class DnsStubResponderTest : public ::testing::Test {
 protected:
  ResponderOptions options_for(std::uint16_t upstream_port) {
    ResponderOptions options;
    options.upstream = upstream_from_text("127.0.0.1").value();
    reinterpret_cast<sockaddr_in&>(options.upstream.address).sin_port = htons(upstream_port);
    options.upstream_options.timeout = 2000ms;
    return options;
  }
  static DnsFaultSpec spec_for(DnsFaultMode mode, std::chrono::nanoseconds delay = 0ns) {
    DnsFaultSpec spec;
    spec.patterns.push_back(NamePattern::compile("*.lab").value());
    spec.mode = mode;
    spec.delay = delay;
    spec.spoof.ipv4 = {{10, 66, 0, 1}};
    return spec;
  }
  std::unique_ptr<DnsStubResponder> start(DnsFaultMode mode, std::chrono::nanoseconds delay = 0ns) {
    return start_with(spec_for(mode, delay), options_for(upstream_.port()));
  }
  std::unique_ptr<DnsStubResponder> start_with(const DnsFaultSpec& spec, const ResponderOptions& options) {
    auto responder = DnsStubResponder::start(std::make_shared<QueryPolicy>(spec, 1), options, clock_);
    EXPECT_TRUE(responder.ok()) << responder.status().to_string();
    return responder.ok() ? std::move(responder).value() : nullptr;
  }

  testing::FakeUpstream upstream_{7};
  FakeClock clock_;
};

TEST_F(DnsStubResponderTest, FailsMatchingNamesAndForwardsOthersOverUdp) {
  auto responder = start(DnsFaultMode::kNxDomain);
  ASSERT_TRUE(responder);
  auto failed = testing::udp_ask(responder->port(), make_query(11, "nats-1.lab"), 2000ms);
  ASSERT_TRUE(failed);
  EXPECT_EQ(testing::get_u16(*failed, 0), 11);
  EXPECT_EQ(testing::rcode_of(*failed), 3);
  auto forwarded = testing::udp_ask(responder->port(), make_query(12, "example.com"), 2000ms);
  ASSERT_TRUE(forwarded);
  EXPECT_EQ(testing::rcode_of(*forwarded), 0);
  EXPECT_EQ(forwarded->back(), 7) << "the upstream's answer, untouched";
  EXPECT_EQ(upstream_.queries(), 1) << "the faulted query never reached the upstream";
  EXPECT_EQ(responder->counters().faulted.load(), 1u);
}

TEST_F(DnsStubResponderTest, ServesTcpToo) {
  auto responder = start(DnsFaultMode::kSpoof);
  ASSERT_TRUE(responder);
  auto spoofed = testing::tcp_ask(responder->port(), make_query(21, "db.lab"), 2000ms);
  ASSERT_TRUE(spoofed);
  EXPECT_EQ(testing::answer_count(*spoofed), 1);
  EXPECT_EQ(spoofed->back(), 1);
  auto forwarded = testing::tcp_ask(responder->port(), make_query(22, "example.com"), 2000ms);
  ASSERT_TRUE(forwarded);
  EXPECT_EQ(forwarded->back(), 7);
}

TEST_F(DnsStubResponderTest, TimeoutModeNeverAnswers) {
  auto responder = start(DnsFaultMode::kTimeout);
  ASSERT_TRUE(responder);
  EXPECT_FALSE(testing::udp_ask(responder->port(), make_query(31, "a.lab"), 300ms));
  EXPECT_TRUE(testing::udp_ask(responder->port(), make_query(32, "a.com"), 2000ms));
}

TEST_F(DnsStubResponderTest, DelayModeAnswersOnlyAfterTheClockMoves) {
  auto responder = start(DnsFaultMode::kDelay, 5s);
  ASSERT_TRUE(responder);
  const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  const sockaddr_in to = testing::loopback(responder->port());
  const Packet query = make_query(41, "slow.lab");
  ::sendto(fd, query.data(), query.size(), 0, reinterpret_cast<const sockaddr*>(&to), sizeof to);
  pollfd ready{fd, POLLIN, 0};
  EXPECT_EQ(::poll(&ready, 1, 300), 0) << "answered before the delay passed";
  bool answered = false;
  for (int i = 0; i < 100 && !answered; ++i) {
    clock_.advance(5s);
    answered = ::poll(&ready, 1, 50) == 1;
  }
  EXPECT_TRUE(answered);
  ::close(fd);
  EXPECT_EQ(upstream_.queries(), 1) << "delay forwards, then holds the real answer";
}

TEST_F(DnsStubResponderTest, StopEndsPendingDelaysAndClosesThePort) {
  auto responder = start(DnsFaultMode::kDelay, 1h);
  ASSERT_TRUE(responder);
  const std::uint16_t port = responder->port();
  EXPECT_FALSE(testing::udp_ask(port, make_query(51, "slow.lab"), 300ms));
  // The pending delay is an hour on a clock nothing advances: stop()
  // returning at all shows it ended the delay instead of waiting it out.
  responder->stop();
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  const sockaddr_in to = testing::loopback(port);
  EXPECT_NE(::connect(fd, reinterpret_cast<const sockaddr*>(&to), sizeof to), 0) << "still listening";
  ::close(fd);
}

TEST_F(DnsStubResponderTest, HostileDatagramsDoNotStopService) {
  auto responder = start(DnsFaultMode::kNxDomain);
  ASSERT_TRUE(responder);
  const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  const sockaddr_in to = testing::loopback(responder->port());
  Packet junk(3000, 0xC0);
  for (std::size_t size : {0u, 1u, 11u, 12u, 13u, 512u, 3000u}) {
    ::sendto(fd, junk.data(), size, 0, reinterpret_cast<const sockaddr*>(&to), sizeof to);
  }
  ::close(fd);
  auto failed = testing::udp_ask(responder->port(), make_query(61, "still.lab"), 2000ms);
  ASSERT_TRUE(failed);
  EXPECT_EQ(testing::rcode_of(*failed), 3);
}

TEST_F(DnsStubResponderTest, HostileTcpFramesDoNotStopService) {
  auto responder = start(DnsFaultMode::kNxDomain);
  ASSERT_TRUE(responder);
  const sockaddr_in to = testing::loopback(responder->port());
  const std::vector<Packet> frames = {{0x00, 0x00}, {0xFF, 0xFF, 1, 2, 3}, {0x00}, {0x00, 0x05, 1, 2, 3, 4, 5}};
  for (const Packet& frame : frames) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    ASSERT_EQ(::connect(fd, reinterpret_cast<const sockaddr*>(&to), sizeof to), 0);
    ::send(fd, frame.data(), frame.size(), MSG_NOSIGNAL);
    ::close(fd);  // mid-frame: the server must notice and move on
  }
  auto failed = testing::tcp_ask(responder->port(), make_query(62, "still.lab"), 2000ms);
  ASSERT_TRUE(failed);
  EXPECT_EQ(testing::rcode_of(*failed), 3);
}

TEST_F(DnsStubResponderTest, ExemptPeersBypassTheFault) {
  DnsFaultSpec spec;
  spec.patterns.push_back(NamePattern::compile("*.lab").value());
  spec.mode = DnsFaultMode::kRefused;
  ResponderOptions options;
  options.upstream = upstream_from_text("127.0.0.1").value();
  reinterpret_cast<sockaddr_in&>(options.upstream.address).sin_port = htons(upstream_.port());
  options.is_exempt_peer = [](const sockaddr_storage&, bool) { return true; };
  auto responder = DnsStubResponder::start(std::make_shared<QueryPolicy>(spec, 1), options, clock_);
  ASSERT_TRUE(responder.ok());
  auto reply = testing::udp_ask((*responder)->port(), make_query(71, "mine.lab"), 2000ms);
  ASSERT_TRUE(reply);
  EXPECT_EQ(testing::rcode_of(*reply), 0);
  EXPECT_EQ(reply->back(), 7);
}

TEST_F(DnsStubResponderTest, DelayedAnswersDoNotHoldAWorker) {
  auto options = options_for(upstream_.port());
  options.workers = 1;
  auto responder = start_with(spec_for(DnsFaultMode::kDelay, 5s), options);
  ASSERT_TRUE(responder);
  // With the delay waited out on the worker, the one worker would forward
  // the second query only after the first one's 5 s (fake time, never
  // moved here).
  for (std::uint16_t id = 1; id <= 3; ++id) send_udp(responder->port(), make_query(id, "slow.lab"));
  EXPECT_TRUE(eventually([&] { return upstream_.queries() == 3; })) << upstream_.queries();
}

TEST_F(DnsStubResponderTest, QueriesBeyondTheQueueAreDroppedAndCounted) {
  SilentUpstream silent;
  auto options = options_for(silent.port());
  options.workers = 1;
  options.max_queued = 1;
  options.upstream_options.timeout = 60000ms;  // the worker stays busy; stop() cancels it
  auto responder = start_with(spec_for(DnsFaultMode::kNxDomain), options);
  ASSERT_TRUE(responder);
  send_udp(responder->port(), make_query(1, "a.com"));
  ASSERT_TRUE(eventually([&] { return silent.received_something(); })) << "the worker took the first";
  for (std::uint16_t id = 2; id <= 5; ++id) send_udp(responder->port(), make_query(id, "a.com"));
  ASSERT_TRUE(eventually([&] { return responder->counters().queries.load() == 5; }));
  EXPECT_EQ(responder->counters().overflowed.load(), 3u) << "one busy, one queued, the rest dropped";
  // Faulted names never need a worker and are still answered.
  auto failed = testing::udp_ask(responder->port(), make_query(6, "x.lab"), 2000ms);
  ASSERT_TRUE(failed);
  EXPECT_EQ(testing::rcode_of(*failed), 3);
  responder->stop();
  EXPECT_TRUE(responder->failure().empty()) << responder->failure();
}

TEST_F(DnsStubResponderTest, ThrowingListenerIsReportedAsAFailure) {
  auto options = options_for(upstream_.port());
  options.is_exempt_peer = [](const sockaddr_storage&, bool) -> bool { throw std::runtime_error("boom"); };
  auto responder = start_with(spec_for(DnsFaultMode::kNxDomain), options);
  ASSERT_TRUE(responder);
  EXPECT_TRUE(responder->failure().empty());
  send_udp(responder->port(), make_query(1, "x.lab"));  // faulted: asks is_exempt_peer on the listener
  ASSERT_TRUE(eventually([&] { return !responder->failure().empty(); }));
  EXPECT_EQ(responder->failure(), "listener: boom");
  responder->stop();  // the other threads still stop and join
}

TEST_F(DnsStubResponderTest, ThrowingWorkerIsReportedAsAFailure) {
  auto options = options_for(upstream_.port());
  options.is_exempt_peer = [](const sockaddr_storage&, bool tcp) -> bool {
    if (tcp) throw std::runtime_error("tcp boom");
    return false;
  };
  auto responder = start_with(spec_for(DnsFaultMode::kNxDomain), options);
  ASSERT_TRUE(responder);
  (void)testing::tcp_ask(responder->port(), make_query(1, "x.lab"), 500ms);
  ASSERT_TRUE(eventually([&] { return !responder->failure().empty(); }));
  EXPECT_EQ(responder->failure(), "worker: tcp boom");
  auto still = testing::udp_ask(responder->port(), make_query(2, "x.lab"), 2000ms);
  ASSERT_TRUE(still) << "the listener keeps serving until the fault is reverted";
  responder->stop();
}

}  // namespace
}  // namespace chaos::agent::dns
