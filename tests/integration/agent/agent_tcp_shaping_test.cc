// tcp.bandwidth, tcp.slow_close, tcp.timeout, tcp.slicer and
// reset_existing through a real agent in namespace A, the echo server in B.
// Each effect is measured from the client side on a connection opened
// during the fault; a connection opened before it keeps its direct path
// (unless reset_existing) and revert sends new connections direct again.
#include "tests/integration/agent/tcp_echo_bed.h"

namespace chaos::agent::integration {
namespace {

using namespace tcp_bed;

class AgentTcpShapingTest : public AgentTcpProxyTest {
 protected:
  UniqueFd connect_in_a() {
    UniqueFd fd;
    in_namespace(bed_->a(), [&] { fd = connect_to_b(); });
    return fd;
  }

  // The fault's id, or "" after a failed expectation.
  std::string inject(const v1::FaultSpec& spec) {
    v1::InjectResponse injected;
    const auto status = agent_->inject(inject_request(spec, "cag-tcp"), &injected);
    EXPECT_TRUE(status.ok()) << status.error_message() << "\n" << agent_->log();
    return status.ok() ? injected.fault().id() : "";
  }

  // Revert, then: no table left, a new connection is direct and echoes,
  // `before` (opened before the fault) still echoes.
  void revert_and_check_direct(const std::string& id, int before) {
    ASSERT_TRUE(agent_->revert(id).ok());
    EXPECT_FALSE(proxy_table_listed(*bed_));
    UniqueFd after = connect_in_a();
    ASSERT_TRUE(after.valid());
    EXPECT_EQ(round_trip(after.get()), "ping");
    if (before >= 0) {
      EXPECT_EQ(round_trip(before), "ping");
    }
  }
};

// Sends `size` bytes and reads their echo; the time it took, or -1s when
// the echo was incomplete.
std::chrono::steady_clock::duration echo_time(int fd, std::size_t size) {
  const std::string message(size, 'e');
  const auto start = std::chrono::steady_clock::now();
  std::thread writer([&] { ::send(fd, message.data(), message.size(), MSG_NOSIGNAL); });
  std::size_t received = 0;
  char buffer[4096];
  while (received < size) {
    const ssize_t count = ::recv(fd, buffer, sizeof buffer, 0);
    if (count <= 0) break;
    received += static_cast<std::size_t>(count);
  }
  writer.join();
  if (received < size) return -1s;
  return std::chrono::steady_clock::now() - start;
}

TEST_F(AgentTcpShapingTest, BandwidthLimitsNewConnectionsOnly) {
  UniqueFd before = connect_in_a();
  ASSERT_TRUE(before.valid());
  v1::FaultSpec spec;
  *spec.mutable_tcp_bandwidth()->mutable_scope() = echo_scope();
  spec.mutable_tcp_bandwidth()->mutable_scope()->set_direction(v1::TCP_DIRECTION_SERVER_TO_CLIENT);
  spec.mutable_tcp_bandwidth()->set_bytes_per_second(20'000);
  const std::string id = inject(spec);
  ASSERT_FALSE(id.empty());
  EXPECT_NE(echo_time(before.get(), 10'000), -1s) << "the connection opened before is not touched";
  UniqueFd during = connect_in_a();
  ASSERT_TRUE(during.valid());
  EXPECT_GE(echo_time(during.get(), 10'000), 500ms) << "10000 bytes back at 20000 bytes/s";
  revert_and_check_direct(id, before.get());
}

TEST_F(AgentTcpShapingTest, SlowCloseDelaysTheFinAndRevertRestoresDirectPaths) {
  UniqueFd before = connect_in_a();
  ASSERT_TRUE(before.valid());
  v1::FaultSpec spec;
  *spec.mutable_tcp_slow_close()->mutable_scope() = echo_scope();
  spec.mutable_tcp_slow_close()->mutable_delay()->set_nanos(600'000'000);
  const std::string id = inject(spec);
  ASSERT_FALSE(id.empty());
  UniqueFd during = connect_in_a();
  ASSERT_TRUE(during.valid());
  EXPECT_EQ(round_trip(during.get()), "ping");
  const auto closed = std::chrono::steady_clock::now();
  ::shutdown(during.get(), SHUT_WR);
  char byte = 0;
  EXPECT_EQ(::recv(during.get(), &byte, 1, 0), 0) << "the echo server's FIN arrives, late";
  EXPECT_GE(std::chrono::steady_clock::now() - closed, 600ms);
  revert_and_check_direct(id, before.get());
}

TEST_F(AgentTcpShapingTest, TimeoutSwallowsTrafficThenClosesTheConnection) {
  UniqueFd before = connect_in_a();
  ASSERT_TRUE(before.valid());
  v1::FaultSpec spec;
  *spec.mutable_tcp_timeout()->mutable_scope() = echo_scope();
  spec.mutable_tcp_timeout()->mutable_timeout()->set_seconds(1);
  const std::string id = inject(spec);
  ASSERT_FALSE(id.empty());
  EXPECT_EQ(round_trip(before.get()), "ping");
  // The timeout counts from the proxy's accept, which may come before
  // connect_in_a() returns here: the clock starts before it.
  const auto connecting = std::chrono::steady_clock::now();
  UniqueFd during = connect_in_a();
  ASSERT_TRUE(during.valid());
  int error = -1;
  EXPECT_EQ(round_trip(during.get(), &error), "") << "nothing comes back";
  EXPECT_EQ(error, 0) << "a close (EOF), not a reset";
  EXPECT_GE(std::chrono::steady_clock::now() - connecting, 1s);
  revert_and_check_direct(id, before.get());
}

TEST_F(AgentTcpShapingTest, SlicerDeliversTheAnswerInSeparateSegments) {
  v1::FaultSpec spec;
  *spec.mutable_tcp_slicer()->mutable_scope() = echo_scope();
  spec.mutable_tcp_slicer()->mutable_scope()->set_direction(v1::TCP_DIRECTION_SERVER_TO_CLIENT);
  spec.mutable_tcp_slicer()->set_average_size(2);
  // Far apart, so a thread stalled for a while on a loaded machine does
  // not take two segments in one read.
  spec.mutable_tcp_slicer()->mutable_delay()->set_nanos(150'000'000);
  const std::string id = inject(spec);
  ASSERT_FALSE(id.empty());
  UniqueFd during = connect_in_a();
  ASSERT_TRUE(during.valid());
  ASSERT_EQ(::send(during.get(), "abcdefghij", 10, MSG_NOSIGNAL), 10);
  std::string received;
  int reads = 0;
  char buffer[64];
  while (received.size() < 10) {
    const ssize_t count = ::recv(during.get(), buffer, sizeof buffer, 0);
    if (count <= 0) break;
    received.append(buffer, static_cast<std::size_t>(count));
    ++reads;
  }
  EXPECT_EQ(received, "abcdefghij");
  EXPECT_GE(reads, 3) << "five 2-byte segments 150 ms apart";
  revert_and_check_direct(id, -1);
}

TEST_F(AgentTcpShapingTest, ResetExistingResetsConnectionsOpenedBeforeTheFault) {
  UniqueFd before = connect_in_a();
  ASSERT_TRUE(before.valid());
  ASSERT_EQ(round_trip(before.get()), "ping");
  v1::FaultSpec spec;
  *spec.mutable_tcp_latency()->mutable_scope() = echo_scope();
  spec.mutable_tcp_latency()->mutable_scope()->set_reset_existing(true);
  spec.mutable_tcp_latency()->mutable_delay()->set_nanos(200'000'000);
  const std::string id = inject(spec);
  ASSERT_FALSE(id.empty());
  int error = 0;
  EXPECT_EQ(round_trip(before.get(), &error), "");
  // ss -K aborts the client's own socket (ECONNABORTED) or the server's (a RST).
  EXPECT_TRUE(error == ECONNRESET || error == EPIPE || error == ECONNABORTED) << "errno " << error;
  // The client reconnects, through the proxy.
  UniqueFd again = connect_in_a();
  ASSERT_TRUE(again.valid());
  const auto sent = std::chrono::steady_clock::now();
  EXPECT_EQ(round_trip(again.get()), "ping");
  EXPECT_GE(std::chrono::steady_clock::now() - sent, 200ms);
  revert_and_check_direct(id, -1);
}

}  // namespace
}  // namespace chaos::agent::integration
