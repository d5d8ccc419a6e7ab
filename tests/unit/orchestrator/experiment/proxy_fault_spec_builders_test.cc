#include "orchestrator/experiment/proxy_fault_spec_builders.h"

#include <gtest/gtest.h>

#include "orchestrator/experiment/fault_spec_builder.h"

namespace chaos::orchestrator {
namespace {

// With the scope's required port unless `with_port` is false.
ParamMap proxy_cli(const std::vector<std::string>& assignments, bool with_port = true) {
  ParamMap params;
  if (with_port) {
    EXPECT_TRUE(add_cli_param("port=4222", params).ok());
  }
  for (const auto& assignment : assignments) {
    const Status status = add_cli_param(assignment, params);
    EXPECT_TRUE(status.ok()) << status.message();
  }
  return params;
}

TEST(ProxyFaultSpecBuilders, HttpAbortFromParams) {
  auto spec = build_fault_spec("http.abort",
                               proxy_cli({"method=POST", "path=/orders/*", "header=X-Tenant", "header_value=blue",
                                          "status=503", "body=down for chaos", "percent=25", "address=10.0.0.3",
                                          "origin=local"}),
                               "test");
  ASSERT_TRUE(spec.ok()) << spec.status().message();
  const auto& abort = spec->http_abort();
  EXPECT_EQ(abort.scope().port(), 4222u);
  EXPECT_EQ(abort.scope().address(), "10.0.0.3");
  EXPECT_EQ(abort.scope().origin(), v1::TcpScope::ORIGIN_LOCAL);
  EXPECT_FALSE(abort.scope().reset_existing()) << "off unless asked for";
  EXPECT_DOUBLE_EQ(abort.scope().percent(), 0) << "the kind's own percent, not the scope's";
  EXPECT_EQ(abort.match().method(), "POST");
  EXPECT_EQ(abort.match().path(), "/orders/*");
  EXPECT_EQ(abort.match().header_value(), "blue");
  EXPECT_EQ(abort.status(), 503u);
  EXPECT_EQ(abort.body(), "down for chaos");
  EXPECT_DOUBLE_EQ(abort.percent(), 25);
}

TEST(ProxyFaultSpecBuilders, Ipv6AddressesAreAccepted) {
  for (const std::string address : {"fd00::3", "[fd00::3]", "::1"}) {
    auto spec = build_fault_spec("nats.drop", proxy_cli({"subjects=a", "address=" + address}), "exp.toml:3:1");
    ASSERT_TRUE(spec.ok()) << address << ": " << spec.status().message();
    EXPECT_EQ(spec->nats_drop().scope().address(), address) << "the agent canonicalises it";
  }
  auto with_port = build_fault_spec("nats.drop", proxy_cli({"subjects=a", "address=[fd00::3]:4222"}), "exp.toml:3:1");
  ASSERT_FALSE(with_port.ok());
  EXPECT_NE(with_port.status().message().find("carries a port; the port goes in port"), std::string::npos)
      << with_port.status().message();
}

TEST(ProxyFaultSpecBuilders, V4MappedAddressIsRefusedWithItsDottedForm) {
  // Its traffic is IPv4 on the wire: an IPv6 rule would redirect nothing.
  for (const std::string address : {"::ffff:10.0.0.3", "[::FFFF:10.0.0.3]"}) {
    auto spec = build_fault_spec("nats.drop", proxy_cli({"subjects=a", "address=" + address}), "exp.toml:3:1");
    ASSERT_FALSE(spec.ok()) << address;
    const std::string message = spec.status().message();
    EXPECT_NE(message.find("address"), std::string::npos) << message;
    EXPECT_NE(message.find("IPv4-mapped IPv6 address (its traffic is IPv4); write 10.0.0.3"), std::string::npos)
        << message;
  }
}

TEST(ProxyFaultSpecBuilders, HttpDelayAndHeaders) {
  auto delay = build_fault_spec("http.delay", proxy_cli({"delay=2s", "on=response"}), "test");
  ASSERT_TRUE(delay.ok()) << delay.status().message();
  EXPECT_EQ(delay->http_delay().delay().seconds(), 2);
  EXPECT_TRUE(delay->http_delay().response());
  auto headers = build_fault_spec("http.headers", proxy_cli({"response_headers=Retry-After: 5"}), "test");
  ASSERT_TRUE(headers.ok()) << headers.status().message();
  ASSERT_EQ(headers->http_headers().response_headers_size(), 1);
  EXPECT_EQ(headers->http_headers().response_headers(0).name(), "Retry-After");
  EXPECT_EQ(headers->http_headers().response_headers(0).value(), "5");
}

TEST(ProxyFaultSpecBuilders, NatsDelayAndDrop) {
  auto delay = build_fault_spec(
      "nats.delay", proxy_cli({"subjects=_INBOX.>", "flow=deliver", "delay=500ms", "reset_existing=true"}), "test");
  ASSERT_TRUE(delay.ok()) << delay.status().message();
  EXPECT_TRUE(delay->nats_delay().scope().reset_existing());
  EXPECT_EQ(delay->nats_delay().match().subjects(0), "_INBOX.>");
  EXPECT_EQ(delay->nats_delay().match().flow(), v1::NatsMessageMatch::FLOW_DELIVER);
  auto drop = build_fault_spec("nats.drop",
                               proxy_cli({"subjects=orders.*,$JS.API.>", "match_reply=true", "error=Permissions "
                                          "Violation", "max_payload=2097152"}),
                               "test");
  ASSERT_TRUE(drop.ok()) << drop.status().message();
  EXPECT_EQ(drop->nats_drop().match().subjects_size(), 2);
  EXPECT_TRUE(drop->nats_drop().match().match_reply());
  EXPECT_EQ(drop->nats_drop().error(), "Permissions Violation");
  EXPECT_EQ(drop->nats_drop().limits().max_payload(), 2097152u);
}

TEST(ProxyFaultSpecBuilders, EveryKindRequiresThePort) {
  const std::vector<std::pair<std::string, std::vector<std::string>>> good = {
      {"http.abort", {"status=503"}},
      {"http.delay", {"delay=1s"}},
      {"http.headers", {"request_headers=X-Chaos: 1"}},
      {"nats.delay", {"subjects=a", "delay=1s"}},
      {"nats.drop", {"subjects=a"}},
  };
  for (const auto& [kind, params] : good) {
    EXPECT_TRUE(build_fault_spec(kind, proxy_cli(params), "exp.toml:3:1").ok()) << kind;
    auto without = build_fault_spec(kind, proxy_cli(params, false), "exp.toml:3:1");
    ASSERT_FALSE(without.ok()) << kind;
    EXPECT_NE(without.status().message().find("port"), std::string::npos) << without.status().message();
    std::vector<std::string> zero = params;
    zero.push_back("port=0");
    auto zero_port = build_fault_spec(kind, proxy_cli(zero, false), "exp.toml:3:1");
    ASSERT_FALSE(zero_port.ok()) << kind;
    EXPECT_NE(zero_port.status().message().find("port"), std::string::npos) << zero_port.status().message();
  }
}

TEST(ProxyFaultSpecBuilders, RejectsBadValuesNamingTheParam) {
  const std::vector<std::pair<std::string, std::vector<std::string>>> bad = {
      {"http.abort", {}},                                       // status is required
      {"http.abort", {"status=99"}},
      {"http.abort", {"status=600"}},
      {"http.abort", {"status=500", "path=/a b"}},
      {"http.abort", {"status=500", "header_value=x"}},         // without header
      {"http.delay", {"delay=0s"}},
      {"http.delay", {"delay=11m"}},
      {"http.delay", {"delay=1s", "on=both"}},
      {"http.headers", {}},
      {"http.headers", {"request_headers=Content-Length: 0"}},
      {"http.headers", {"request_headers=no colon"}},
      {"nats.delay", {"delay=1s"}},                             // subjects are required
      {"nats.delay", {"subjects=a..b", "delay=1s"}},
      {"nats.delay", {"subjects=a.>.b", "delay=1s"}},
      {"nats.drop", {"subjects=a", "error=it's"}},
      {"nats.drop", {"subjects=a", "max_control_line=10"}},
      {"nats.drop", {"subjects=a", "max_payload=67108865"}},
      {"nats.drop", {"subjects=a", "flow=sideways"}},
      {"nats.drop", {"subjects=a", "address=10.0.0.3:4222"}},
      {"nats.drop", {"subjects=a", "address=[fd00::3]:4222"}},
      {"nats.drop", {"subjects=a", "address=[fd00::3"}},
      {"nats.drop", {"subjects=a", "address=nats.local"}},
  };
  for (const auto& [kind, params] : bad) {
    auto spec = build_fault_spec(kind, proxy_cli(params), "exp.toml:3:1");
    EXPECT_FALSE(spec.ok()) << kind << " " << (params.empty() ? "" : params.front());
    if (!spec.ok()) {
      // Where: the param's own location (a TOML line, or --param NAME).
      EXPECT_NE(spec.status().message().find(kind + " "), std::string::npos) << spec.status().message();
      EXPECT_NE(spec.status().message().find("param"), std::string::npos) << spec.status().message();
    }
  }
}

}  // namespace
}  // namespace chaos::orchestrator
