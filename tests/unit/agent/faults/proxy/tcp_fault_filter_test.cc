#include "agent/faults/proxy/tcp_fault_filter.h"

#include <gtest/gtest.h>

namespace chaos::agent::proxy {
namespace {

using namespace std::chrono_literals;

const SteadyTime kNow{std::chrono::seconds(500)};

TcpFaultSpec spec_of(TcpFaultMode mode) {
  TcpFaultSpec spec;
  spec.mode = mode;
  spec.scope.port = 80;
  return spec;
}

std::string forwarded(const FilterVerdict& verdict) {
  std::string bytes;
  for (const Emit& emit : verdict.forward) bytes += emit.bytes;
  return bytes;
}

TEST(TcpFaultFilter, LatencyDelaysEachChunkWithinTheJitterAndKeepsOrder) {
  TcpFaultSpec spec = spec_of(TcpFaultMode::kLatency);
  spec.delay = 50ms;
  spec.jitter = 10ms;
  TcpFaultFilter filter(spec, 7);
  bool varied = false;
  for (int i = 0; i < 200; ++i) {
    FilterVerdict verdict = filter.on_bytes(Direction::kClientToServer, "abc", kNow);
    ASSERT_EQ(verdict.forward.size(), 1u);
    EXPECT_EQ(verdict.forward[0].bytes, "abc");
    EXPECT_GE(verdict.forward[0].delay, 40ms);
    EXPECT_LE(verdict.forward[0].delay, 60ms);
    EXPECT_TRUE(verdict.forward[0].hold_order);
    varied = varied || verdict.forward[0].delay != 50ms;
  }
  EXPECT_TRUE(varied) << "jitter draws different delays";
}

TEST(TcpFaultFilter, LatencyLeavesTheOtherDirectionAlone) {
  TcpFaultSpec spec = spec_of(TcpFaultMode::kLatency);
  spec.delay = 50ms;
  spec.scope.server_to_client = false;
  TcpFaultFilter filter(spec, 1);
  FilterVerdict back = filter.on_bytes(Direction::kServerToClient, "pong", kNow);
  ASSERT_EQ(back.forward.size(), 1u);
  EXPECT_EQ(back.forward[0].delay, 0ms);
  EXPECT_EQ(filter.on_bytes(Direction::kClientToServer, "ping", kNow).forward[0].delay, 50ms);
}

TEST(TcpFaultFilter, AllowReorderLetsChunksOvertake) {
  TcpFaultSpec spec = spec_of(TcpFaultMode::kLatency);
  spec.delay = 50ms;
  spec.allow_reorder = true;
  TcpFaultFilter filter(spec, 1);
  EXPECT_FALSE(filter.on_bytes(Direction::kClientToServer, "x", kNow).forward[0].hold_order);
}

TEST(TcpFaultFilter, ResetPeerAfterTimeAsksForAResetAtOpen) {
  TcpFaultSpec spec = spec_of(TcpFaultMode::kResetPeer);
  spec.after = 2s;
  TcpFaultFilter filter(spec, 1);
  FilterVerdict opened = filter.on_open(kNow);
  EXPECT_EQ(opened.close, CloseAction::kReset);
  EXPECT_EQ(opened.close_after, 2s);
  FilterVerdict bytes = filter.on_bytes(Direction::kClientToServer, "data", kNow);
  EXPECT_EQ(forwarded(bytes), "data");
  EXPECT_EQ(bytes.close, CloseAction::kNone);
}

TEST(TcpFaultFilter, ResetPeerAfterBytesForwardsTheBudgetThenResets) {
  TcpFaultSpec spec = spec_of(TcpFaultMode::kResetPeer);
  spec.after_bytes = 5;
  TcpFaultFilter filter(spec, 1);
  EXPECT_EQ(filter.on_open(kNow).close, CloseAction::kNone);
  FilterVerdict first = filter.on_bytes(Direction::kClientToServer, "abc", kNow);
  EXPECT_EQ(forwarded(first), "abc");
  EXPECT_EQ(first.close, CloseAction::kNone);
  FilterVerdict second = filter.on_bytes(Direction::kServerToClient, "defgh", kNow);
  EXPECT_EQ(forwarded(second), "de");
  EXPECT_EQ(second.close, CloseAction::kReset);
  EXPECT_EQ(second.close_after, 0ms);
}

TEST(TcpFaultFilter, LimitDataClosesAfterTheBudgetAndDropsTheRest) {
  TcpFaultSpec spec = spec_of(TcpFaultMode::kLimitData);
  spec.limit_bytes = 4;
  spec.scope.client_to_server = false;
  TcpFaultFilter filter(spec, 1);
  EXPECT_EQ(forwarded(filter.on_bytes(Direction::kClientToServer, "request", kNow)), "request");
  FilterVerdict answer = filter.on_bytes(Direction::kServerToClient, "response", kNow);
  EXPECT_EQ(forwarded(answer), "resp");
  EXPECT_EQ(answer.close, CloseAction::kClose);
  FilterVerdict late = filter.on_bytes(Direction::kServerToClient, "more", kNow);
  EXPECT_TRUE(late.forward.empty());
}

TEST(TcpFilterFactory, FaultsAboutThePercentOfConnections) {
  TcpFaultSpec spec = spec_of(TcpFaultMode::kLatency);
  spec.delay = 10ms;
  spec.scope.percent = 30;
  TcpFilterFactory factory(spec, 42);
  int faulted = 0;
  for (std::uint64_t id = 1; id <= 1000; ++id) {
    auto filter = factory.make(ConnectionInfo{id, "a", "b"});
    if (filter->on_bytes(Direction::kClientToServer, "x", kNow).forward[0].delay > 0ms) ++faulted;
  }
  EXPECT_EQ(static_cast<std::uint64_t>(faulted), factory.faulted_connections());
  EXPECT_GT(faulted, 200);
  EXPECT_LT(faulted, 400);
}

TEST(TcpFilterFactory, AllConnectionsWhenPercentIsHundred) {
  TcpFaultSpec spec = spec_of(TcpFaultMode::kLatency);
  spec.delay = 10ms;
  TcpFilterFactory factory(spec, 42);
  for (std::uint64_t id = 1; id <= 50; ++id) (void)factory.make(ConnectionInfo{id, "a", "b"});
  EXPECT_EQ(factory.faulted_connections(), 50u);
}

TEST(TcpFaultFilter, PassesThroughOnlyDirectionsWhoseBytesItLeavesAlone) {
  TcpFaultSpec latency = spec_of(TcpFaultMode::kLatency);
  latency.delay = 50ms;
  latency.scope.server_to_client = false;
  TcpFaultFilter upstream_only(latency, 1);
  EXPECT_FALSE(upstream_only.passes_through(Direction::kClientToServer));
  EXPECT_TRUE(upstream_only.passes_through(Direction::kServerToClient));

  TcpFaultSpec limit = spec_of(TcpFaultMode::kLimitData);
  limit.limit_bytes = 10;
  EXPECT_FALSE(TcpFaultFilter(limit, 1).passes_through(Direction::kClientToServer));  // counts bytes

  TcpFaultSpec by_bytes = spec_of(TcpFaultMode::kResetPeer);
  by_bytes.after_bytes = 10;
  EXPECT_FALSE(TcpFaultFilter(by_bytes, 1).passes_through(Direction::kServerToClient));
  TcpFaultSpec by_time = spec_of(TcpFaultMode::kResetPeer);
  by_time.after = 1s;
  EXPECT_TRUE(TcpFaultFilter(by_time, 1).passes_through(Direction::kServerToClient));

  // slow_close delays only the FIN, which on_end() still decides.
  TcpFaultSpec slow_close = spec_of(TcpFaultMode::kSlowClose);
  slow_close.delay = 2s;
  TcpFaultFilter closing(slow_close, 1);
  EXPECT_TRUE(closing.passes_through(Direction::kClientToServer));
  EXPECT_EQ(closing.on_end(Direction::kClientToServer, kNow).end_delay, 2s);

  TcpFaultSpec timeout = spec_of(TcpFaultMode::kTimeout);
  timeout.timeout = 1s;
  EXPECT_FALSE(TcpFaultFilter(timeout, 1).passes_through(Direction::kClientToServer));  // drops bytes
  EXPECT_TRUE(PassThroughFilter().passes_through(Direction::kClientToServer));
}

}  // namespace
}  // namespace chaos::agent::proxy
