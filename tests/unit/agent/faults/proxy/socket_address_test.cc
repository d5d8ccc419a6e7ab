#include "agent/faults/proxy/socket_address.h"

#include <gtest/gtest.h>
#include <netinet/in.h>

namespace chaos::agent::proxy {
namespace {

TEST(SocketAddress, PrintsIpv4PlainAndIpv6InBrackets) {
  EXPECT_EQ(socket_address_text(*socket_address_of(AF_INET, "10.0.0.3", 4222)), "10.0.0.3:4222");
  EXPECT_EQ(socket_address_text(*socket_address_of(AF_INET6, "fd00:0::3", 4222)), "[fd00::3]:4222");
  EXPECT_EQ(socket_host_text(*socket_address_of(AF_INET6, "::1", 1)), "::1");
  EXPECT_EQ(socket_address_text(SocketAddress{}), "?");
}

TEST(SocketAddress, ParsesWhatItPrints) {
  for (const std::string text : {"10.0.0.3:4222", "[fd00::3]:4222", "[::1]:1", "127.0.0.1:65535"}) {
    auto parsed = parse_socket_address(text, "upstream");
    ASSERT_TRUE(parsed.ok()) << text << ": " << parsed.status().message();
    EXPECT_EQ(socket_address_text(*parsed), text);
  }
  auto v6 = parse_socket_address("[fd00::3]:80", "upstream");
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->family(), AF_INET6);
  EXPECT_EQ(v6->length(), sizeof(sockaddr_in6));
  EXPECT_EQ(v6->port(), 80);
  EXPECT_TRUE(*v6 == *socket_address_of(AF_INET6, "fd00::3", 80));
  EXPECT_FALSE(*v6 == *socket_address_of(AF_INET6, "fd00::3", 81));
  EXPECT_TRUE(socket_address_of(AF_INET6, "::", 80)->is_any());
  EXPECT_FALSE(v6->is_any());
}

TEST(SocketAddress, BadInputNamesTheFieldAndTheProblem) {
  EXPECT_EQ(parse_socket_address("fd00::3:4222", "upstream").status().message(),
            "upstream: \"fd00::3:4222\": an IPv6 address needs brackets before a port (\"[::1]:4222\")");
  EXPECT_EQ(parse_socket_address("10.0.0.3", "upstream").status().message(), "upstream: \"10.0.0.3\" lacks \":port\"");
  EXPECT_EQ(parse_socket_address("[fd00::3:4222", "upstream").status().message(),
            "upstream: \"[fd00::3:4222\": unbalanced '['");
  EXPECT_EQ(parse_socket_address("[10.0.0.3]:80", "upstream").status().message(),
            "upstream: \"[10.0.0.3]:80\": not an IPv6 address");
  EXPECT_EQ(parse_socket_address("10.0.0.3:0", "upstream").status().message(),
            "upstream: \"10.0.0.3:0\": the port must be 1..65535");
  EXPECT_EQ(parse_socket_address("10.0.0.3:80x", "upstream").status().message(),
            "upstream: \"10.0.0.3:80x\": the port must be 1..65535");
  EXPECT_EQ(parse_socket_address("host:80", "upstream").status().message(),
            "upstream: \"host:80\": not an IPv4 address");
  EXPECT_FALSE(parse_socket_address(std::string(100000, '['), "upstream").ok());
}

}  // namespace
}  // namespace chaos::agent::proxy
