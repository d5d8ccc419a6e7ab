#include "agent/faults/dns/dns_fault_spec.h"

#include <gtest/gtest.h>

#include <limits>

namespace chaos::agent::dns {
namespace {

v1::DnsFault base(v1::DnsFault::Mode mode) {
  v1::DnsFault proto;
  proto.add_patterns("*.lab");
  proto.set_mode(mode);
  return proto;
}

std::string error_of(const v1::DnsFault& proto) {
  auto spec = parse_dns_fault_spec(proto);
  EXPECT_FALSE(spec.ok());
  EXPECT_EQ(spec.status().code(), StatusCode::kInvalidArgument);
  return spec.status().message();
}

TEST(DnsFaultSpecTest, AcceptsEachFailureMode) {
  for (auto mode : {v1::DnsFault::MODE_NXDOMAIN, v1::DnsFault::MODE_SERVFAIL, v1::DnsFault::MODE_REFUSED,
                    v1::DnsFault::MODE_TIMEOUT}) {
    auto spec = parse_dns_fault_spec(base(mode));
    ASSERT_TRUE(spec.ok()) << spec.status().to_string();
    EXPECT_EQ(spec->percent, 100.0) << "0 means 100";
    EXPECT_TRUE(spec->matches("x.lab"));
  }
}

TEST(DnsFaultSpecTest, NamesTheFieldInErrors) {
  EXPECT_EQ(error_of(base(v1::DnsFault::MODE_UNSPECIFIED)).rfind("dns.mode:", 0), 0u);
  v1::DnsFault no_patterns = base(v1::DnsFault::MODE_NXDOMAIN);
  no_patterns.clear_patterns();
  EXPECT_EQ(error_of(no_patterns).rfind("dns.patterns:", 0), 0u);
  v1::DnsFault bad_pattern = base(v1::DnsFault::MODE_NXDOMAIN);
  bad_pattern.add_patterns("bad name");
  EXPECT_EQ(error_of(bad_pattern).rfind("dns.patterns[1]:", 0), 0u);
}

TEST(DnsFaultSpecTest, DelayMustBePositiveAndOnlyForDelayMode) {
  EXPECT_EQ(error_of(base(v1::DnsFault::MODE_DELAY)).rfind("dns.delay:", 0), 0u);
  v1::DnsFault delay = base(v1::DnsFault::MODE_DELAY);
  delay.mutable_delay()->set_nanos(250'000'000);
  auto spec = parse_dns_fault_spec(delay);
  ASSERT_TRUE(spec.ok());
  EXPECT_EQ(spec->delay, std::chrono::milliseconds(250));
  EXPECT_NE(spec->describe().find("250ms"), std::string::npos) << spec->describe();
  delay.mutable_delay()->set_seconds(-1);
  EXPECT_EQ(error_of(delay).rfind("dns.delay:", 0), 0u);
  delay.mutable_delay()->set_seconds(999'999'999);
  EXPECT_EQ(error_of(delay).rfind("dns.delay:", 0), 0u);
  v1::DnsFault stray = base(v1::DnsFault::MODE_NXDOMAIN);
  stray.mutable_delay()->set_seconds(1);
  EXPECT_EQ(error_of(stray).rfind("dns.delay:", 0), 0u);
}

TEST(DnsFaultSpecTest, SpoofNeedsValidAddressesOfBothFamilies) {
  v1::DnsFault spoof = base(v1::DnsFault::MODE_SPOOF);
  EXPECT_EQ(error_of(spoof).rfind("dns.spoof_addresses:", 0), 0u);
  spoof.add_spoof_addresses("10.9.8.7");
  spoof.add_spoof_addresses("fd00::7");
  auto spec = parse_dns_fault_spec(spoof);
  ASSERT_TRUE(spec.ok());
  ASSERT_EQ(spec->spoof.ipv4.size(), 1u);
  EXPECT_EQ(spec->spoof.ipv4[0][3], 7);
  ASSERT_EQ(spec->spoof.ipv6.size(), 1u);
  EXPECT_EQ(spec->spoof.ipv6[0][15], 7);
  spoof.add_spoof_addresses("10.0.0.256");
  EXPECT_EQ(error_of(spoof).rfind("dns.spoof_addresses[2]:", 0), 0u);
}

TEST(DnsFaultSpecTest, RefusesTooManyAddressesOrPatterns) {
  v1::DnsFault spoof = base(v1::DnsFault::MODE_SPOOF);
  for (int i = 0; i < 9; ++i) spoof.add_spoof_addresses("10.0.0." + std::to_string(i));
  EXPECT_EQ(error_of(spoof).rfind("dns.spoof_addresses:", 0), 0u);
  v1::DnsFault many = base(v1::DnsFault::MODE_NXDOMAIN);
  for (int i = 0; i < 64; ++i) many.add_patterns("p" + std::to_string(i) + ".lab");
  EXPECT_EQ(error_of(many).rfind("dns.patterns:", 0), 0u);
}

TEST(DnsFaultSpecTest, PercentMustBeInRange) {
  for (double percent : {-1.0, 100.5, std::numeric_limits<double>::quiet_NaN(),
                         std::numeric_limits<double>::infinity()}) {
    v1::DnsFault proto = base(v1::DnsFault::MODE_SERVFAIL);
    proto.set_percent(percent);
    EXPECT_EQ(error_of(proto).rfind("dns.percent:", 0), 0u) << percent;
  }
  v1::DnsFault half = base(v1::DnsFault::MODE_SERVFAIL);
  half.set_percent(50);
  EXPECT_EQ(parse_dns_fault_spec(half)->percent, 50.0);
}

}  // namespace
}  // namespace chaos::agent::dns
