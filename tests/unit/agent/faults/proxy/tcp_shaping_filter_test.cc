// tcp.bandwidth, tcp.slow_close, tcp.timeout and tcp.slicer as filters,
// with fake times: what each emits, when, and what it does to a FIN.
#include <gtest/gtest.h>

#include "agent/faults/proxy/tcp_fault_filter.h"

namespace chaos::agent::proxy {
namespace {

using namespace std::chrono_literals;

const SteadyTime kShapeNow{std::chrono::seconds(900)};

TcpFaultSpec shaping_spec(TcpFaultMode mode) {
  TcpFaultSpec spec;
  spec.mode = mode;
  spec.scope.port = 80;
  return spec;
}

std::string joined(const FilterVerdict& verdict) {
  std::string bytes;
  for (const Emit& emit : verdict.forward) bytes += emit.bytes;
  return bytes;
}

TEST(TcpBandwidthFilter, SpacesPiecesAtTheRateAcrossReads) {
  TcpFaultSpec spec = shaping_spec(TcpFaultMode::kBandwidth);
  spec.bytes_per_second = 10'000;  // pieces of 500 bytes, 50 ms each
  TcpFaultFilter filter(spec, 1);
  FilterVerdict first = filter.on_bytes(Direction::kClientToServer, std::string(1000, 'a'), kShapeNow);
  ASSERT_EQ(first.forward.size(), 2u);
  EXPECT_EQ(first.forward[0].delay, 50ms);
  EXPECT_EQ(first.forward[1].delay, 100ms);
  EXPECT_TRUE(first.forward[1].hold_order);
  // 20 ms later the link is still busy for 80 ms: the next piece queues.
  FilterVerdict second = filter.on_bytes(Direction::kClientToServer, std::string(500, 'b'), kShapeNow + 20ms);
  ASSERT_EQ(second.forward.size(), 1u);
  EXPECT_EQ(second.forward[0].delay, 130ms);
  // An idle link does not bank credit.
  FilterVerdict later = filter.on_bytes(Direction::kClientToServer, "x", kShapeNow + 10s);
  EXPECT_EQ(later.forward[0].delay, 100us);
}

TEST(TcpBandwidthFilter, EachDirectionHasItsOwnBudgetAndUnfaultedOnesPass) {
  TcpFaultSpec spec = shaping_spec(TcpFaultMode::kBandwidth);
  spec.bytes_per_second = 1000;
  TcpFaultFilter both(spec, 1);
  EXPECT_EQ(both.on_bytes(Direction::kClientToServer, std::string(256, 'a'), kShapeNow).forward[0].delay, 256ms);
  EXPECT_EQ(both.on_bytes(Direction::kServerToClient, std::string(256, 'b'), kShapeNow).forward[0].delay, 256ms);
  spec.scope.server_to_client = false;
  TcpFaultFilter upload_only(spec, 1);
  EXPECT_EQ(upload_only.on_bytes(Direction::kServerToClient, "reply", kShapeNow).forward[0].delay, 0ms);
}

TEST(TcpSlowCloseFilter, DelaysTheFinOfTheFaultedDirectionOnly) {
  TcpFaultSpec spec = shaping_spec(TcpFaultMode::kSlowClose);
  spec.delay = 3s;
  spec.scope.server_to_client = false;
  TcpFaultFilter filter(spec, 1);
  FilterVerdict data = filter.on_bytes(Direction::kClientToServer, "bye", kShapeNow);
  EXPECT_EQ(joined(data), "bye");
  EXPECT_EQ(data.forward[0].delay, 0ms);
  EXPECT_EQ(filter.on_end(Direction::kClientToServer, kShapeNow).end_delay, 3s);
  EXPECT_EQ(filter.on_end(Direction::kServerToClient, kShapeNow).end_delay, 0ms);
  EXPECT_EQ(filter.on_open(kShapeNow).close, CloseAction::kNone);
}

TEST(TcpTimeoutFilter, DropsFaultedBytesHoldsTheFinAndClosesAfterTheTimeout) {
  TcpFaultSpec spec = shaping_spec(TcpFaultMode::kTimeout);
  spec.timeout = 5s;
  spec.scope.client_to_server = false;
  TcpFaultFilter filter(spec, 1);
  FilterVerdict opened = filter.on_open(kShapeNow);
  EXPECT_EQ(opened.close, CloseAction::kClose);
  EXPECT_EQ(opened.close_after, 5s);
  EXPECT_EQ(joined(filter.on_bytes(Direction::kClientToServer, "request", kShapeNow)), "request");
  EXPECT_TRUE(filter.on_bytes(Direction::kServerToClient, "response", kShapeNow).forward.empty());
  EXPECT_EQ(filter.on_end(Direction::kServerToClient, kShapeNow).end_delay, kHoldEnd);
  EXPECT_EQ(filter.on_end(Direction::kClientToServer, kShapeNow).end_delay, 0ms);
}

TEST(TcpTimeoutFilter, ZeroTimeoutHoldsTheConnectionUntilRevert) {
  TcpFaultSpec spec = shaping_spec(TcpFaultMode::kTimeout);
  TcpFaultFilter filter(spec, 1);
  EXPECT_EQ(filter.on_open(kShapeNow).close, CloseAction::kNone);
  EXPECT_TRUE(filter.on_bytes(Direction::kClientToServer, "hello", kShapeNow).forward.empty());
}

TEST(TcpSlicerFilter, CutsIntoOwnSegmentsWithinTheVariationInOrder) {
  TcpFaultSpec spec = shaping_spec(TcpFaultMode::kSlicer);
  spec.slice_average = 10;
  spec.slice_variation = 4;
  TcpFaultFilter filter(spec, 3);
  const std::string input(1000, 'z');
  FilterVerdict verdict = filter.on_bytes(Direction::kServerToClient, input, kShapeNow);
  EXPECT_EQ(joined(verdict), input);
  bool varied = false;
  for (std::size_t i = 0; i + 1 < verdict.forward.size(); ++i) {  // the last one is what was left
    const Emit& emit = verdict.forward[i];
    EXPECT_GE(emit.bytes.size(), 6u);
    EXPECT_LE(emit.bytes.size(), 14u);
    EXPECT_TRUE(emit.own_segment);
    EXPECT_TRUE(emit.hold_order);
    EXPECT_EQ(emit.delay, 0ms);
    varied = varied || emit.bytes.size() != 10;
  }
  EXPECT_TRUE(varied);
  EXPECT_GT(verdict.forward.size(), 70u);
}

TEST(TcpSlicerFilter, SpacesSegmentsByTheDelayAcrossReads) {
  TcpFaultSpec spec = shaping_spec(TcpFaultMode::kSlicer);
  spec.slice_average = 2;
  spec.delay = 10ms;
  TcpFaultFilter filter(spec, 1);
  FilterVerdict first = filter.on_bytes(Direction::kClientToServer, "abcdef", kShapeNow);
  ASSERT_EQ(first.forward.size(), 3u);
  EXPECT_EQ(first.forward[0].delay, 0ms);
  EXPECT_EQ(first.forward[1].delay, 10ms);
  EXPECT_EQ(first.forward[2].delay, 20ms);
  FilterVerdict second = filter.on_bytes(Direction::kClientToServer, "gh", kShapeNow + 5ms);
  EXPECT_EQ(second.forward[0].delay, 25ms) << "10 ms after the last segment still queued";
  FilterVerdict idle = filter.on_bytes(Direction::kClientToServer, "ij", kShapeNow + 1s);
  EXPECT_EQ(idle.forward[0].delay, 0ms);
}

}  // namespace
}  // namespace chaos::agent::proxy
