#include "common/host_port.h"

#include <gtest/gtest.h>

namespace chaos {
namespace {

TEST(SplitHostPort, TellsAnUnbracketedIpv6AddressApart) {
  EXPECT_TRUE(is_unbracketed_ipv6_host_port("fd00::7:9701"));
  EXPECT_TRUE(is_unbracketed_ipv6_host_port("fe80::1%eth0:80"));
  EXPECT_FALSE(is_unbracketed_ipv6_host_port("[fd00::7]:9701"));
  EXPECT_FALSE(is_unbracketed_ipv6_host_port("10.0.0.1:9701"));
  EXPECT_FALSE(is_unbracketed_ipv6_host_port("fd00::7:"));
  EXPECT_FALSE(is_unbracketed_ipv6_host_port("a:b:c"));
  EXPECT_FALSE(is_unbracketed_ipv6_host_port("fd00::7:port"));
}

TEST(SplitHostPort, ParsesAndExplainsErrors) {
  EXPECT_EQ(split_host_port("127.0.0.1:9701", "x").value(), std::make_pair(std::string("127.0.0.1"), 9701));
  EXPECT_EQ(split_host_port("[::1]:80", "x").value(), std::make_pair(std::string("::1"), 80));
  EXPECT_EQ(split_host_port("localhost:0", "x").value(), std::make_pair(std::string("localhost"), 0));
  EXPECT_EQ(split_host_port("localhost", "--metrics-listen").status().message(),
            "--metrics-listen: expected HOST:PORT, got 'localhost'");
  EXPECT_EQ(split_host_port("h:", "x").status().message(), "x: expected HOST:PORT, got 'h:'");
  EXPECT_FALSE(split_host_port(":80", "x").ok());
  EXPECT_EQ(split_host_port("h:99999", "x").status().message(), "x: port 99999 is out of range");
  EXPECT_EQ(split_host_port("h:12a", "x").status().message(), "x: port '12a' is not a number");
  EXPECT_EQ(split_host_port("fd00::7:9701", "--listen").status().message(),
            "--listen: IPv6 address in 'fd00::7:9701' must be in brackets, as [fd00::7]:9701 (without them the "
            "last ':' can be read as part of it)");
  EXPECT_FALSE(split_host_port("::1:0", "x").ok());
  // No port to put after the brackets: no made-up hint.
  EXPECT_EQ(split_host_port("fd00::7", "x").status().message(),
            "x: expected HOST:PORT or [IPV6]:PORT, got 'fd00::7'");
  EXPECT_EQ(split_host_port("[::1]", "x").status().message(), "x: expected HOST:PORT or [IPV6]:PORT, got '[::1]'");
  bool bracketed = false;
  ASSERT_TRUE(split_host_port("localhost:80", "x", &bracketed).ok());
  EXPECT_FALSE(bracketed);
  ASSERT_TRUE(split_host_port("[fd00::7]:9701", "x", &bracketed).ok());
  EXPECT_TRUE(bracketed);
}

TEST(CanonicalHostPort, OneSpellingPerEndpoint) {
  EXPECT_EQ(canonical_host_port("[0:0::1]:7000", "x").value(), "[::1]:7000");
  EXPECT_EQ(canonical_host_port("[::1]:7000", "x").value(), "[::1]:7000");
  EXPECT_EQ(canonical_host_port("[FD00:0::A]:7000", "x").value(), "[fd00::a]:7000");
  EXPECT_EQ(canonical_host_port("[fe80::1%eth0]:7000", "x").value(), "[fe80::1%eth0]:7000");
  EXPECT_EQ(canonical_host_port("10.0.0.1:07000", "x").value(), "10.0.0.1:7000");
  EXPECT_EQ(canonical_host_port("Agent-1.Example.COM.:7000", "x").value(), "agent-1.example.com:7000");
  EXPECT_EQ(canonical_host_port("localhost:7000", "x").value(), "localhost:7000");
}

TEST(CanonicalHostPort, RefusesWhatNamesNoEndpoint) {
  EXPECT_EQ(canonical_host_port("a b:7000", "target t1").status().message(),
            "target t1: host 'a b' of 'a b:7000' is neither an IP address nor a host name");
  EXPECT_FALSE(canonical_host_port(".:7000", "x").ok());
  EXPECT_FALSE(canonical_host_port("[]:7000", "x").ok());
  EXPECT_FALSE(canonical_host_port("h:7x", "x").ok());
  EXPECT_EQ(canonical_host_port("h:70000", "x").status().message(), "x: port 70000 is out of range");
  EXPECT_FALSE(canonical_host_port("h", "x").ok());
}

TEST(CanonicalHostPort, RefusesAnIPv6AddressWithoutBracketsAndBracketsAroundAnythingElse) {
  EXPECT_EQ(canonical_host_port("fd00::7:9701", "agent a").status().message(),
            "agent a: IPv6 address in 'fd00::7:9701' must be in brackets, as [fd00::7]:9701 (without them the "
            "last ':' can be read as part of it)");
  EXPECT_FALSE(canonical_host_port("::1:80", "x").ok());
  EXPECT_EQ(canonical_host_port("[10.0.0.1]:80", "x").status().message(),
            "x: brackets in '[10.0.0.1]:80' hold '10.0.0.1', which is not an IPv6 address");
  EXPECT_FALSE(canonical_host_port("[agent]:80", "x").ok());
  EXPECT_FALSE(canonical_host_port("[fe80::1%eth0:80", "x").ok());
  EXPECT_EQ(canonical_host_port("[fd00::7]:9701", "x").value(), "[fd00::7]:9701");
}

TEST(CanonicalHostPort, RefusesDigitsAndDotsThatAreNoIPv4Address) {
  EXPECT_EQ(canonical_host_port("10.0.0.010:80", "x").status().message(),
            "x: host '10.0.0.010' of '10.0.0.010:80' is digits and dots but not an IPv4 address (four numbers "
            "0-255 without leading zeros)");
  EXPECT_FALSE(canonical_host_port("10.1:80", "x").ok());
  EXPECT_FALSE(canonical_host_port("10.0.0.256:80", "x").ok());
  EXPECT_FALSE(canonical_host_port("2130706433:80", "x").ok());
  EXPECT_EQ(canonical_host_port("10.0.0.10:80", "x").value(), "10.0.0.10:80");
  EXPECT_EQ(canonical_host_port("1a.example:80", "x").value(), "1a.example:80");
}

}  // namespace
}  // namespace chaos
