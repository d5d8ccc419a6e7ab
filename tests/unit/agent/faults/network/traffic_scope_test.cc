#include "agent/faults/network/traffic_scope.h"

#include <gtest/gtest.h>

namespace chaos::agent::network {
namespace {

TEST(ParseCidrTest, AcceptsAddressesAndPrefixesAndMasksHostBits) {
  auto cidr = parse_cidr("10.1.2.3/8");
  ASSERT_TRUE(cidr.ok());
  EXPECT_EQ(cidr->text, "10.0.0.0/8");
  EXPECT_EQ(parse_cidr("192.168.0.7")->text, "192.168.0.7/32");
  EXPECT_EQ(parse_cidr("fd00::1/64")->text, "fd00::/64");
  EXPECT_EQ(parse_cidr("fd00::1")->family, 6);
}

TEST(ParseCidrTest, RefusesHostileAndMalformedInput) {
  for (const char* text : {"", "abc", "10.0.0.0/33", "10.0.0.1/", "10.0.0.1/-1", "10.0.0.1/8x", "::1/129",
                           "10.0.0.256", "10.0.0.0/8/8", "-j ACCEPT", "10.0.0.1 /8"}) {
    auto cidr = parse_cidr(text);
    EXPECT_FALSE(cidr.ok()) << text;
    if (!cidr.ok()) {
      EXPECT_EQ(cidr.status().code(), StatusCode::kInvalidArgument);
    }
  }
  EXPECT_FALSE(parse_cidr(std::string(100000, '1')).ok());
}

// An ip6 rule for ::ffff:10.0.0.5 never matches: the packets are IPv4, and
// the fault would only ever be ARMED.
TEST(ParseCidrTest, RefusesIpv4MappedIpv6Addresses) {
  for (const char* text : {"::ffff:10.0.0.5", "::ffff:10.0.0.0/104", "0:0:0:0:0:ffff:a00:5"}) {
    auto cidr = parse_cidr(text);
    ASSERT_FALSE(cidr.ok()) << text;
    EXPECT_NE(cidr.status().message().find("is an IPv4-mapped IPv6 address: its traffic is IPv4, so give 10.0.0."),
              std::string::npos)
        << cidr.status().message();
  }
  EXPECT_TRUE(parse_cidr("::ffff:0:a00:5").ok()) << "IPv4-translated, not mapped";
  EXPECT_TRUE(parse_cidr("64:ff9b::a00:5").ok());
}

TEST(CidrTest, ContainsRespectsPrefixAndFamily) {
  EXPECT_TRUE(parse_cidr("10.0.0.0/8")->contains(*parse_cidr("10.2.3.4/32")));
  EXPECT_FALSE(parse_cidr("10.2.3.4/32")->contains(*parse_cidr("10.0.0.0/8")));
  EXPECT_FALSE(parse_cidr("10.0.0.0/8")->contains(*parse_cidr("11.0.0.1")));
  EXPECT_FALSE(parse_cidr("0.0.0.0/0")->contains(*parse_cidr("::1")));
}

v1::NetworkScope proto_scope() {
  v1::NetworkScope scope;
  scope.set_interface("eth0");
  scope.add_destination_cidrs("10.0.0.0/24");
  scope.add_ports(4222);
  scope.set_protocol(v1::NetworkScope::PROTOCOL_TCP);
  return scope;
}

TEST(ScopeFromProtoTest, ConvertsEveryFieldAndDefaultsTheDirection) {
  auto scope = scope_from_proto(proto_scope(), "network_delay.scope", v1::DIRECTION_EGRESS);
  ASSERT_TRUE(scope.ok()) << scope.status().to_string();
  EXPECT_EQ(scope->interface, "eth0");
  ASSERT_EQ(scope->peers.size(), 1u);
  EXPECT_EQ(scope->ports, (std::vector<std::uint16_t>{4222}));
  EXPECT_EQ(scope->protocol, Protocol::kTcp);
  EXPECT_TRUE(scope->egress);
  EXPECT_FALSE(scope->ingress);
  EXPECT_EQ(scope->describe(), "on eth0 egress peers 10.0.0.0/24 tcp ports 4222");
}

TEST(ScopeFromProtoTest, ErrorsNameTheField) {
  struct Case {
    std::function<void(v1::NetworkScope&)> mutate;
    std::string field;
  };
  const std::vector<Case> cases = {
      {[](auto& s) { s.set_interface("-j ACCEPT"); }, "network_delay.scope.interface"},
      {[](auto& s) { s.set_interface("abcdefghijklmnop"); }, "network_delay.scope.interface"},
      {[](auto& s) { s.set_interface("eth0;rm"); }, "network_delay.scope.interface"},
      {[](auto& s) { s.add_destination_cidrs("nope"); }, "network_delay.scope.destination_cidrs[1]"},
      {[](auto& s) { s.add_source_cidrs("1.2.3.4/40"); }, "network_delay.scope.source_cidrs[0]"},
      {[](auto& s) { s.add_ports(0); }, "network_delay.scope.ports[1]"},
      {[](auto& s) { s.add_ports(70000); }, "network_delay.scope.ports[1]"},
      {[](auto& s) { s.set_protocol(static_cast<v1::NetworkScope::Protocol>(42)); }, "network_delay.scope.protocol"},
      {[](auto& s) { s.set_direction(static_cast<v1::Direction>(9)); }, "network_delay.scope.direction"},
      {[](auto& s) { s.set_protocol(v1::NetworkScope::PROTOCOL_ICMP); }, "network_delay.scope.ports"},
      {[](auto& s) { for (int i = 0; i < 65; ++i) s.add_destination_cidrs("10.0.0.1"); },
       "network_delay.scope.destination_cidrs"},
      {[](auto& s) { for (int i = 0; i < 65; ++i) s.add_ports(80); }, "network_delay.scope.ports"},
      {[](auto& s) {
         for (int i = 0; i < 9; ++i) s.add_destination_cidrs("10.0.0." + std::to_string(i));
         for (int i = 0; i < 8; ++i) s.add_source_cidrs("10.1.0." + std::to_string(i));
       },
       "network_delay.scope"},
  };
  for (const auto& test_case : cases) {
    auto proto = proto_scope();
    test_case.mutate(proto);
    auto scope = scope_from_proto(proto, "network_delay.scope", v1::DIRECTION_EGRESS);
    ASSERT_FALSE(scope.ok()) << test_case.field;
    EXPECT_EQ(scope.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(scope.status().message().rfind(test_case.field + ":", 0), 0u) << scope.status().message();
  }
}

TrafficScope scope_of(std::string interface, std::vector<std::string> peers, std::vector<std::uint16_t> ports,
                      Protocol protocol = Protocol::kAny, bool ingress = false) {
  TrafficScope scope;
  scope.interface = std::move(interface);
  for (const auto& peer : peers) scope.peers.push_back(*parse_cidr(peer));
  scope.ports = std::move(ports);
  scope.protocol = protocol;
  scope.egress = !ingress;
  scope.ingress = ingress;
  return scope;
}

TEST(ScopesOverlapTest, EmptyFieldsMatchEverything) {
  EXPECT_TRUE(scopes_overlap(scope_of("", {}, {}), scope_of("eth0", {"10.0.0.1"}, {80})));
}

TEST(ScopesOverlapTest, DisjointInterfacesPeersPortsProtocolsOrDirectionsDoNotOverlap) {
  EXPECT_FALSE(scopes_overlap(scope_of("eth0", {}, {}), scope_of("eth1", {}, {})));
  EXPECT_FALSE(scopes_overlap(scope_of("", {"10.0.0.0/24"}, {}), scope_of("", {"10.0.1.0/24"}, {})));
  EXPECT_FALSE(scopes_overlap(scope_of("", {}, {80}), scope_of("", {}, {443})));
  EXPECT_FALSE(scopes_overlap(scope_of("", {}, {}, Protocol::kTcp), scope_of("", {}, {}, Protocol::kUdp)));
  EXPECT_FALSE(scopes_overlap(scope_of("", {}, {}, Protocol::kAny, false), scope_of("", {}, {}, Protocol::kAny, true)));
}

TEST(ScopesOverlapTest, NestedCidrsAndSharedPortsOverlap) {
  EXPECT_TRUE(scopes_overlap(scope_of("", {"10.0.0.0/8"}, {80, 443}), scope_of("", {"10.9.9.9"}, {443})));
}

}  // namespace
}  // namespace chaos::agent::network
