#include "agent/faults/dns/resolv_conf.h"

#include <gtest/gtest.h>

namespace chaos::agent::dns {
namespace {

TEST(ResolvConfTest, TakesTheFirstUsableNameserver) {
  auto upstream = parse_resolv_conf(
      "# generated\nsearch lab\nnameserver fe80::1%eth0\nnameserver 10.202.0.2\nnameserver 10.0.0.3\n");
  ASSERT_TRUE(upstream.ok());
  EXPECT_EQ(upstream->text, "10.202.0.2");
  EXPECT_EQ(upstream->family(), AF_INET);
  EXPECT_FALSE(upstream->loopback);
  const auto& v4 = reinterpret_cast<const sockaddr_in&>(upstream->address);
  EXPECT_EQ(ntohs(v4.sin_port), 53);
}

TEST(ResolvConfTest, LoopbackResolverIsMarked) {
  auto resolved = parse_resolv_conf("nameserver 127.0.0.53\noptions edns0\n");
  ASSERT_TRUE(resolved.ok());
  EXPECT_TRUE(resolved->loopback);
  auto v6 = parse_resolv_conf("nameserver ::1\n");
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->family(), AF_INET6);
  EXPECT_TRUE(v6->loopback);
}

TEST(ResolvConfTest, NoNameserverMeansTheLocalMachineLikeGlibc) {
  auto upstream = parse_resolv_conf("search lab\nnameserver\nnameserver bogus\n");
  ASSERT_TRUE(upstream.ok());
  EXPECT_EQ(upstream->text, "127.0.0.1");
  EXPECT_TRUE(upstream->loopback);
}

TEST(ResolvConfTest, MissingFileIsAnErrorNamingThePath) {
  auto upstream = read_resolv_conf("/nonexistent/cdn-resolv.conf");
  ASSERT_FALSE(upstream.ok());
  EXPECT_NE(upstream.status().message().find("/nonexistent/cdn-resolv.conf"), std::string::npos);
}

}  // namespace
}  // namespace chaos::agent::dns
