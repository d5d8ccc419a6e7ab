#include "agent/faults/proxy/tcp_fault_spec.h"

#include <gtest/gtest.h>
#include <sys/socket.h>

namespace chaos::agent::proxy {
namespace {

using namespace std::chrono_literals;

v1::FaultSpec latency_spec(std::uint32_t port, std::int64_t delay_ms, std::int64_t jitter_ms = 0) {
  v1::FaultSpec spec;
  auto& latency = *spec.mutable_tcp_latency();
  latency.mutable_scope()->set_port(port);
  latency.mutable_delay()->set_nanos(static_cast<std::int32_t>(delay_ms * 1'000'000));
  latency.mutable_jitter()->set_nanos(static_cast<std::int32_t>(jitter_ms * 1'000'000));
  return spec;
}

TEST(TcpFaultSpec, LatencyDefaultsToBothDirectionsAllConnectionsAnyOrigin) {
  auto parsed = parse_tcp_fault_spec(latency_spec(4222, 50, 5));
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  EXPECT_EQ(parsed->mode, TcpFaultMode::kLatency);
  EXPECT_EQ(parsed->delay, 50ms);
  EXPECT_EQ(parsed->jitter, 5ms);
  EXPECT_TRUE(parsed->scope.local && parsed->scope.remote);
  EXPECT_TRUE(parsed->scope.client_to_server && parsed->scope.server_to_client);
  EXPECT_EQ(parsed->scope.percent, 100);
  EXPECT_EQ(parsed->describe(), "tcp.latency 50ms +-5ms on port 4222, both directions, 100% of new connections");
}

TEST(TcpFaultSpec, BadFieldsAreNamed) {
  EXPECT_EQ(parse_tcp_fault_spec(latency_spec(0, 50)).status().message(),
            "tcp_latency.scope.port: required, 1..65535 (got 0)");
  EXPECT_EQ(parse_tcp_fault_spec(latency_spec(70000, 50)).status().message(),
            "tcp_latency.scope.port: required, 1..65535 (got 70000)");
  EXPECT_EQ(parse_tcp_fault_spec(latency_spec(80, 0)).status().message(), "tcp_latency.delay: must be positive");
  EXPECT_EQ(parse_tcp_fault_spec(latency_spec(80, 5, 6)).status().message(), "tcp_latency.jitter: at most the delay");
  auto address = latency_spec(80, 5);
  address.mutable_tcp_latency()->mutable_scope()->set_address("10.0.0.300");
  EXPECT_EQ(parse_tcp_fault_spec(address).status().message(),
            "tcp_latency.scope.address: not an IPv4 or IPv6 address: \"10.0.0.300\"");
  auto percent = latency_spec(80, 5);
  percent.mutable_tcp_latency()->mutable_scope()->set_percent(101);
  EXPECT_EQ(parse_tcp_fault_spec(percent).status().message(),
            "tcp_latency.scope.percent: must be within [0, 100] (0 means 100)");
  auto long_delay = latency_spec(80, 5);
  long_delay.mutable_tcp_latency()->mutable_delay()->set_seconds(3600);
  EXPECT_EQ(parse_tcp_fault_spec(long_delay).status().message(), "tcp_latency.delay: at most 600s");
  // 2^55 + 1 seconds would wrap to exactly 1 s in nanoseconds, and a large
  // negative count to a positive one: refused before any arithmetic.
  auto wrapping = latency_spec(80, 5);
  wrapping.mutable_tcp_latency()->mutable_delay()->set_seconds((std::int64_t{1} << 55) + 1);
  wrapping.mutable_tcp_latency()->mutable_delay()->set_nanos(0);
  EXPECT_EQ(parse_tcp_fault_spec(wrapping).status().message(), "tcp_latency.delay: out of range");
  wrapping.mutable_tcp_latency()->mutable_delay()->set_seconds(-(std::int64_t{1} << 62));
  EXPECT_FALSE(parse_tcp_fault_spec(wrapping).ok());
}

StatusOr<TcpScopeSpec> scope_with_address(const std::string& address) {
  auto spec = latency_spec(4222, 5);
  spec.mutable_tcp_latency()->mutable_scope()->set_address(address);
  auto parsed = parse_tcp_fault_spec(spec);
  if (!parsed.ok()) return parsed.status();
  return parsed->scope;
}

TEST(TcpFaultSpec, V4MappedAddressIsRefusedWithItsDottedForm) {
  for (const std::string address : {"::ffff:10.0.0.3", "[::ffff:a00:3]"}) {
    const auto scope = scope_with_address(address);
    ASSERT_FALSE(scope.ok()) << address;
    EXPECT_EQ(scope.status().message(),
              "tcp_latency.scope.address: \"" + address +
                  "\" is an IPv4-mapped IPv6 address (its traffic is IPv4); write 10.0.0.3");
  }
}

TEST(TcpFaultSpec, AddressesOfBothFamiliesAreCanonicalAndKeepTheirFamily) {
  auto v4 = scope_with_address("10.0.0.3");
  ASSERT_TRUE(v4.ok()) << v4.status().message();
  EXPECT_EQ(v4->family, AF_INET);
  auto v6 = scope_with_address("FD00:0:0::3");
  ASSERT_TRUE(v6.ok()) << v6.status().message();
  EXPECT_EQ(v6->address, "fd00::3");
  EXPECT_EQ(v6->family, AF_INET6);
  auto bracketed = scope_with_address("[fd00::3]");
  ASSERT_TRUE(bracketed.ok()) << bracketed.status().message();
  EXPECT_EQ(bracketed->address, "fd00::3");
  auto any = scope_with_address("");
  ASSERT_TRUE(any.ok());
  EXPECT_EQ(any->family, 0);
}

TEST(TcpFaultSpec, AnAddressWithAPortOrBrokenBracketsIsRefusedByName) {
  EXPECT_EQ(scope_with_address("[fd00::3]:4222").status().message(),
            "tcp_latency.scope.address: \"[fd00::3]:4222\" carries a port; the port goes in scope.port");
  EXPECT_EQ(scope_with_address("10.0.0.3:4222").status().message(),
            "tcp_latency.scope.address: \"10.0.0.3:4222\" carries a port; the port goes in scope.port");
  EXPECT_EQ(scope_with_address("[fd00::3").status().message(),
            "tcp_latency.scope.address: unbalanced '[' in \"[fd00::3\"");
  EXPECT_EQ(scope_with_address("[10.0.0.3]").status().message(),
            "tcp_latency.scope.address: brackets only enclose IPv6: \"[10.0.0.3]\"");
  EXPECT_EQ(scope_with_address("fd00::3::4").status().message(),
            "tcp_latency.scope.address: not an IPv4 or IPv6 address: \"fd00::3::4\"");
  EXPECT_EQ(scope_with_address(std::string(200, ':')).status().message().rfind("tcp_latency.scope.address: too long", 0),
            0u);
}

TEST(TcpFaultSpec, ResetPeerNeedsATimeOrAByteCount) {
  v1::FaultSpec spec;
  spec.mutable_tcp_reset_peer()->mutable_scope()->set_port(80);
  EXPECT_EQ(parse_tcp_fault_spec(spec).status().message(), "tcp_reset_peer: one of after, after_bytes is required");
  spec.mutable_tcp_reset_peer()->set_after_bytes(100);
  spec.mutable_tcp_reset_peer()->mutable_scope()->set_direction(v1::TCP_DIRECTION_SERVER_TO_CLIENT);
  auto parsed = parse_tcp_fault_spec(spec);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->after_bytes, 100u);
  EXPECT_FALSE(parsed->scope.client_to_server);
  EXPECT_EQ(parsed->describe(), "tcp.reset_peer after 100 bytes on port 80, server to client, 100% of new connections");
}

TEST(TcpFaultSpec, LimitDataNeedsBytes) {
  v1::FaultSpec spec;
  spec.mutable_tcp_limit_data()->mutable_scope()->set_port(80);
  EXPECT_EQ(parse_tcp_fault_spec(spec).status().message(), "tcp_limit_data.bytes: required, 1..2^40");
  spec.mutable_tcp_limit_data()->set_bytes(10);
  spec.mutable_tcp_limit_data()->mutable_scope()->set_origin(v1::TcpScope::ORIGIN_LOCAL);
  auto parsed = parse_tcp_fault_spec(spec);
  ASSERT_TRUE(parsed.ok());
  EXPECT_FALSE(parsed->scope.remote);
  EXPECT_EQ(tcp_fault_kind_name(spec), "tcp.limit_data");
}

std::string tcp_spec_error(const v1::FaultSpec& spec) {
  auto parsed = parse_tcp_fault_spec(spec);
  return parsed.ok() ? "ok" : std::string(parsed.status().message());
}

TEST(TcpFaultSpec, BandwidthNeedsARateWithinBounds) {
  v1::FaultSpec spec;
  spec.mutable_tcp_bandwidth()->mutable_scope()->set_port(80);
  EXPECT_EQ(tcp_spec_error(spec), "tcp_bandwidth.bytes_per_second: required, 1..2^34");
  spec.mutable_tcp_bandwidth()->set_bytes_per_second((std::uint64_t{1} << 34) + 1);
  EXPECT_EQ(tcp_spec_error(spec), "tcp_bandwidth.bytes_per_second: required, 1..2^34");
  spec.mutable_tcp_bandwidth()->set_bytes_per_second(1000);
  auto parsed = parse_tcp_fault_spec(spec);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->mode, TcpFaultMode::kBandwidth);
  EXPECT_EQ(parsed->describe(), "tcp.bandwidth 1000 bytes/s on port 80, both directions, 100% of new connections");
  EXPECT_EQ(tcp_fault_kind_name(spec), "tcp.bandwidth");
}

TEST(TcpFaultSpec, SlowCloseNeedsAPositiveDelay) {
  v1::FaultSpec spec;
  spec.mutable_tcp_slow_close()->mutable_scope()->set_port(80);
  EXPECT_EQ(tcp_spec_error(spec), "tcp_slow_close.delay: must be positive");
  spec.mutable_tcp_slow_close()->mutable_delay()->set_seconds(-1);
  EXPECT_EQ(tcp_spec_error(spec), "tcp_slow_close.delay: must not be negative");
  spec.mutable_tcp_slow_close()->mutable_delay()->set_seconds(601);
  EXPECT_EQ(tcp_spec_error(spec), "tcp_slow_close.delay: at most 600s");
  spec.mutable_tcp_slow_close()->mutable_delay()->set_seconds(2);
  auto parsed = parse_tcp_fault_spec(spec);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->delay, std::chrono::seconds(2));
  EXPECT_EQ(tcp_fault_kind_name(spec), "tcp.slow_close");
}

TEST(TcpFaultSpec, TimeoutZeroHoldsUntilRevert) {
  v1::FaultSpec spec;
  spec.mutable_tcp_timeout()->mutable_scope()->set_port(80);
  auto parsed = parse_tcp_fault_spec(spec);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->timeout, Duration{0});
  EXPECT_EQ(parsed->describe(), "tcp.timeout until revert on port 80, both directions, 100% of new connections");
  spec.mutable_tcp_timeout()->mutable_timeout()->set_seconds(24 * 3600 + 1);
  EXPECT_EQ(tcp_spec_error(spec), "tcp_timeout.timeout: at most 86400s");
  spec.mutable_tcp_timeout()->mutable_timeout()->set_seconds(5);
  spec.mutable_tcp_timeout()->mutable_scope()->set_reset_existing(true);
  parsed = parse_tcp_fault_spec(spec);
  ASSERT_TRUE(parsed.ok());
  EXPECT_TRUE(parsed->scope.reset_existing);
  EXPECT_EQ(parsed->describe(), "tcp.timeout closing after 5000ms on port 80, both directions, 100% of new "
                                "connections; connections open at inject reset");
}

TEST(TcpFaultSpec, SlicerNeedsASizeAboveItsVariation) {
  v1::FaultSpec spec;
  auto& slicer = *spec.mutable_tcp_slicer();
  slicer.mutable_scope()->set_port(80);
  EXPECT_EQ(tcp_spec_error(spec), "tcp_slicer.average_size: required, 1..65536");
  slicer.set_average_size(65537);
  EXPECT_EQ(tcp_spec_error(spec), "tcp_slicer.average_size: required, 1..65536");
  slicer.set_average_size(10);
  slicer.set_size_variation(10);
  EXPECT_EQ(tcp_spec_error(spec), "tcp_slicer.size_variation: must be below average_size");
  slicer.set_size_variation(3);
  slicer.mutable_delay()->set_nanos(-5);
  EXPECT_EQ(tcp_spec_error(spec), "tcp_slicer.delay: must not be negative");
  slicer.mutable_delay()->set_nanos(20'000'000);
  auto parsed = parse_tcp_fault_spec(spec);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->describe(),
            "tcp.slicer 10+-3 bytes, 20ms apart on port 80, both directions, 100% of new connections");
  EXPECT_EQ(tcp_fault_kind_name(spec), "tcp.slicer");
}

}  // namespace
}  // namespace chaos::agent::proxy
