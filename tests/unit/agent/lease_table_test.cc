#include "agent/lease_table.h"

#include <gtest/gtest.h>

namespace chaos::agent {
namespace {

using namespace std::chrono_literals;

TEST(LeaseTable, CreatesExtendsAndExpires) {
  LeaseTable leases;
  const SteadyTime t0{};
  leases.create_or_extend("a", 5s, t0);
  EXPECT_EQ(leases.find("a")->expires_at, t0 + 5s);
  EXPECT_TRUE(leases.renew("a", 0s, t0 + 4s).has_value());
  EXPECT_EQ(leases.find("a")->expires_at, t0 + 9s) << "a zero ttl keeps the previous one";
  EXPECT_TRUE(leases.take_expired(t0 + 8s).empty());
  auto expired = leases.take_expired(t0 + 9s);
  ASSERT_EQ(expired.size(), 1u);
  EXPECT_EQ(expired[0].id, "a");
  EXPECT_FALSE(leases.contains("a"));
}

TEST(LeaseTable, RenewRefusesUnknownAndExpiredLeases) {
  LeaseTable leases;
  const SteadyTime t0{};
  EXPECT_FALSE(leases.renew("nobody", 5s, t0));
  leases.create_or_extend("a", 5s, t0);
  EXPECT_FALSE(leases.renew("a", 5s, t0 + 5s)) << "too late: the dead-man switch has fired";
}

}  // namespace
}  // namespace chaos::agent
