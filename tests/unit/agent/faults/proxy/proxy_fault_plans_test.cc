#include "agent/faults/proxy/proxy_fault_plans.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace chaos::agent::proxy {
namespace {

std::uint64_t plan_counter(const ProxyFaultReport& report, const std::string& name) {
  const auto found = std::find_if(report.counters.begin(), report.counters.end(),
                                  [&](const FaultCounter& counter) { return counter.name == name; });
  EXPECT_NE(found, report.counters.end()) << name;
  return found == report.counters.end() ? 0 : found->value;
}

std::string plan_forwarded(const FilterVerdict& verdict) {
  std::string bytes;
  for (const auto& emit : verdict.forward) bytes += emit.bytes;
  return bytes;
}

v1::FaultSpec nats_drop_on(std::uint32_t port, const std::string& subject) {
  v1::FaultSpec spec;
  spec.mutable_nats_drop()->mutable_scope()->set_port(port);
  spec.mutable_nats_drop()->mutable_match()->add_subjects(subject);
  return spec;
}

TEST(ProxyFaultPlans, NatsServerRequiringTlsIsPassedThroughAndReported) {
  auto plan = nats_fault_plan(nats_drop_on(4222, "orders.*"), 1);
  ASSERT_TRUE(plan.ok()) << plan.status().message();
  auto filter = plan->factory->make(ConnectionInfo{1, "10.0.0.1:5000", "10.0.0.2:4222"});
  const std::string info = "INFO {\"server_id\":\"x\",\"tls_required\":true}\r\n";
  EXPECT_EQ(plan_forwarded(filter->on_bytes(Direction::kServerToClient, info, SteadyTime{})), info);
  // What follows is the TLS handshake: bytes the fault must not touch.
  const std::string handshake = std::string("\x16\x03\x01\x02\x00", 5) + "PUB orders.x 1\r\nx\r\n";
  EXPECT_EQ(plan_forwarded(filter->on_bytes(Direction::kClientToServer, handshake, SteadyTime{})), handshake);

  const ProxyFaultReport report = plan->report();
  EXPECT_EQ(plan_counter(report, "connections_tls"), 1u);
  EXPECT_EQ(plan_counter(report, "connections_passed_through"), 1u);
  EXPECT_EQ(plan_counter(report, "messages_dropped"), 0u);
  EXPECT_FALSE(report.impaired);
  EXPECT_NE(report.note.find("1 connection passed through untouched (1 TLS)"), std::string::npos) << report.note;
  EXPECT_NE(report.note.find("TLS: cannot see inside"), std::string::npos) << report.note;
}

TEST(ProxyFaultPlans, NatsDropCountsWhatItDrops) {
  auto plan = nats_fault_plan(nats_drop_on(4222, "orders.*"), 1);
  ASSERT_TRUE(plan.ok()) << plan.status().message();
  auto filter = plan->factory->make(ConnectionInfo{1, "10.0.0.1:5000", "10.0.0.2:4222"});
  filter->on_bytes(Direction::kServerToClient, "INFO {\"server_id\":\"x\"}\r\n", SteadyTime{});
  const auto verdict =
      filter->on_bytes(Direction::kClientToServer, "PUB orders.new 2\r\nhi\r\nPUB audit.log 2\r\nok\r\n", SteadyTime{});
  EXPECT_EQ(plan_forwarded(verdict), "PUB audit.log 2\r\nok\r\n");
  const ProxyFaultReport report = plan->report();
  EXPECT_EQ(report.faulted_connections, 1u);
  EXPECT_TRUE(report.impaired);
  EXPECT_EQ(plan_counter(report, "messages_dropped"), 1u);
  EXPECT_EQ(report.note, "");
  EXPECT_NE(plan->description.find("nats.drop of messages on orders.* on port 4222"), std::string::npos)
      << plan->description;
}

TEST(ProxyFaultPlans, ProtocolScopeErrorsNameTheProtoField) {
  v1::FaultSpec no_port;
  no_port.mutable_nats_drop()->mutable_match()->add_subjects("a");
  auto plan = nats_fault_plan(no_port, 1);
  ASSERT_FALSE(plan.ok());
  EXPECT_NE(plan.status().message().find("nats_drop.scope.port"), std::string::npos) << plan.status().message();

  v1::FaultSpec percent;
  percent.mutable_http_abort()->mutable_scope()->set_port(8080);
  percent.mutable_http_abort()->mutable_scope()->set_percent(50);
  percent.mutable_http_abort()->set_status(503);
  plan = http_fault_plan(percent, 1);
  ASSERT_FALSE(plan.ok());
  EXPECT_NE(plan.status().message().find("http_abort.scope.percent"), std::string::npos) << plan.status().message();

  v1::FaultSpec direction;
  direction.mutable_nats_delay()->mutable_scope()->set_port(4222);
  direction.mutable_nats_delay()->mutable_scope()->set_direction(v1::TCP_DIRECTION_CLIENT_TO_SERVER);
  direction.mutable_nats_delay()->mutable_match()->add_subjects("a");
  direction.mutable_nats_delay()->mutable_delay()->set_seconds(1);
  plan = nats_fault_plan(direction, 1);
  ASSERT_FALSE(plan.ok());
  EXPECT_NE(plan.status().message().find("nats_delay.scope.direction"), std::string::npos) << plan.status().message();

  v1::FaultSpec bad_status;
  bad_status.mutable_http_abort()->mutable_scope()->set_port(8080);
  bad_status.mutable_http_abort()->set_status(99);
  plan = http_fault_plan(bad_status, 1);
  ASSERT_FALSE(plan.ok());
  EXPECT_NE(plan.status().message().find("http_abort.status"), std::string::npos) << plan.status().message();

  EXPECT_FALSE(http_fault_plan(nats_drop_on(4222, "a"), 1).ok()) << "not an http.* spec";
  EXPECT_FALSE(nats_fault_plan(bad_status, 1).ok()) << "not a nats.* spec";
}

TEST(ProxyFaultPlans, DelaysAreCheckedAgainstThePolicyUnderTheirField) {
  v1::FaultSpec spec;
  spec.mutable_http_delay()->mutable_scope()->set_port(8080);
  spec.mutable_http_delay()->mutable_scope()->set_origin(v1::TcpScope::ORIGIN_LOCAL);
  spec.mutable_http_delay()->mutable_match()->set_path("/slow/*");
  spec.mutable_http_delay()->mutable_delay()->set_seconds(2);
  spec.mutable_http_delay()->set_percent(50);
  auto plan = http_fault_plan(spec, 1);
  ASSERT_TRUE(plan.ok()) << plan.status().message();
  EXPECT_EQ(plan->policy_delay, std::chrono::seconds(2));
  EXPECT_EQ(plan->delay_field, "http_delay.delay");
  EXPECT_EQ(plan->scope.port, 8080);
  EXPECT_FALSE(plan->scope.remote);
  EXPECT_EQ(plan->description,
            "http.delay 2000ms of requests to /slow/* on port 8080 (local clients), 50% of matching requests");

  v1::FaultSpec nats;
  nats.mutable_nats_delay()->mutable_scope()->set_port(4222);
  nats.mutable_nats_delay()->mutable_match()->add_subjects("_INBOX.>");
  nats.mutable_nats_delay()->mutable_delay()->set_nanos(300'000'000);
  plan = nats_fault_plan(nats, 1);
  ASSERT_TRUE(plan.ok()) << plan.status().message();
  EXPECT_EQ(plan->policy_delay, std::chrono::milliseconds(300));
  EXPECT_EQ(plan->delay_field, "nats_delay.delay");
}

TEST(ProxyFaultPlans, TcpDelaysAreCheckedAgainstThePolicyUnderTheirField) {
  v1::FaultSpec latency;
  latency.mutable_tcp_latency()->mutable_scope()->set_port(7500);
  latency.mutable_tcp_latency()->mutable_delay()->set_nanos(200'000'000);
  latency.mutable_tcp_latency()->mutable_jitter()->set_nanos(50'000'000);
  auto plan = tcp_fault_plan(latency, 1);
  ASSERT_TRUE(plan.ok()) << plan.status().message();
  EXPECT_EQ(plan->policy_delay, std::chrono::milliseconds(250)) << "the worst case: delay plus jitter";
  EXPECT_EQ(plan->delay_field, "tcp_latency.delay");

  v1::FaultSpec slow_close;
  slow_close.mutable_tcp_slow_close()->mutable_scope()->set_port(7500);
  slow_close.mutable_tcp_slow_close()->mutable_delay()->set_seconds(3);
  plan = tcp_fault_plan(slow_close, 1);
  ASSERT_TRUE(plan.ok()) << plan.status().message();
  EXPECT_EQ(plan->policy_delay, std::chrono::seconds(3));
  EXPECT_EQ(plan->delay_field, "tcp_slow_close.delay");

  v1::FaultSpec slicer;
  slicer.mutable_tcp_slicer()->mutable_scope()->set_port(7500);
  slicer.mutable_tcp_slicer()->set_average_size(16);
  slicer.mutable_tcp_slicer()->mutable_delay()->set_nanos(5'000'000);
  plan = tcp_fault_plan(slicer, 1);
  ASSERT_TRUE(plan.ok()) << plan.status().message();
  EXPECT_EQ(plan->policy_delay, std::chrono::milliseconds(5));
  EXPECT_EQ(plan->delay_field, "tcp_slicer.delay");

  v1::FaultSpec bandwidth;
  bandwidth.mutable_tcp_bandwidth()->mutable_scope()->set_port(7500);
  bandwidth.mutable_tcp_bandwidth()->set_bytes_per_second(4096);
  plan = tcp_fault_plan(bandwidth, 1);
  ASSERT_TRUE(plan.ok()) << plan.status().message();
  EXPECT_EQ(plan->policy_delay, Duration{0}) << "a rate, not a delay the policy bounds";
}

}  // namespace
}  // namespace chaos::agent::proxy
