#include "agent/policy.h"

#include <gtest/gtest.h>

namespace chaos::agent {
namespace {

using namespace std::chrono_literals;

TEST(Policy, EmptyPolicyAllowsEverything) {
  v1::FaultSpec spec;
  spec.mutable_network_loss()->set_percent(100);
  EXPECT_TRUE(check_policy(Policy{}, "network.loss", spec).ok());
}

TEST(Policy, RefusesKindsOutsideAllowedKinds) {
  Policy policy;
  policy.allowed_kinds = {"process.kill"};
  auto status = check_policy(policy, "process.pause", v1::FaultSpec());
  EXPECT_EQ(status.code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(status.message(), "policy: fault kind 'process.pause' is not in allowed_kinds");
  EXPECT_TRUE(check_policy(policy, "process.kill", v1::FaultSpec()).ok());
}

TEST(Policy, RefusesDelayPlusJitterAboveMaxDelay) {
  Policy policy;
  policy.max_delay = 1s;
  v1::FaultSpec spec;
  spec.mutable_network_delay()->mutable_delay()->set_nanos(900'000'000);
  EXPECT_TRUE(check_policy(policy, "network.delay", spec).ok());
  spec.mutable_network_delay()->mutable_jitter()->set_nanos(200'000'000);
  auto status = check_policy(policy, "network.delay", spec);
  EXPECT_EQ(status.code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(status.message(), "policy: network_delay.delay + jitter 1.1s exceeds max_delay 1s");
  v1::FaultSpec dns;
  dns.mutable_dns()->mutable_delay()->set_seconds(3);
  EXPECT_EQ(check_policy(policy, "dns.fail", dns).code(), StatusCode::kPermissionDenied);
}

TEST(Policy, RefusesLossAboveMaxLossIncludingBurstModel) {
  Policy policy;
  policy.max_loss_percent = 50;
  v1::FaultSpec spec;
  spec.mutable_network_loss()->set_percent(60);
  auto status = check_policy(policy, "network.loss", spec);
  EXPECT_EQ(status.code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(status.message(), "policy: network_loss: 60% loss exceeds max_loss_percent 50%");
  spec.mutable_network_loss()->set_percent(10);
  spec.mutable_network_loss()->mutable_burst()->set_loss_in_bad_percent(90);
  EXPECT_EQ(check_policy(policy, "network.loss", spec).code(), StatusCode::kPermissionDenied);
}

TEST(Policy, RefusesDurationAboveMax) {
  Policy policy;
  policy.max_duration = 10min;
  EXPECT_TRUE(check_duration_bound(policy, 10min).ok());
  const Status refused = check_duration_bound(policy, 11min);
  EXPECT_EQ(refused.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(refused.message(), "duration: 11m exceeds this agent's limit of 10m (policy.max_duration)");
}

TEST(Policy, DefaultBoundsAreAnHourTenMinutesAnd256Faults) {
  const Policy policy;
  EXPECT_TRUE(check_duration_bound(policy, std::chrono::hours(1)).ok());
  EXPECT_EQ(check_duration_bound(policy, std::chrono::hours(1) + 1ns).code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(check_lease_ttl_bound(policy, 10min, "lease_ttl").ok());
  EXPECT_EQ(check_lease_ttl_bound(policy, 11min, "lease_ttl").message(),
            "lease_ttl: 11m exceeds this agent's limit of 10m (policy.max_lease_ttl)");
  EXPECT_EQ(policy.max_live_faults, 256u);
}

TEST(Policy, NoConfigurationRaisesTheCeiling) {
  Policy policy;
  policy.max_duration = Duration::max();
  policy.max_lease_ttl = Duration::max();
  EXPECT_EQ(check_duration_bound(policy, kDurationCeiling + 1ns).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(check_duration_bound(policy, Duration::max()).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(check_lease_ttl_bound(policy, Duration::max(), "ttl").code(), StatusCode::kInvalidArgument);
}

TEST(ProtectedProcesses, MatchesCommOrCmdline) {
  auto compiled = ProtectedProcesses::compile({"^sshd$", "nats-server .*--cluster"});
  ASSERT_TRUE(compiled.ok());
  ProcessInfo sshd{10, 1, "sshd", "/usr/sbin/sshd -D", 'S', 1, 1, false};
  ProcessInfo nats{11, 1, "nats-server", "nats-server -c x --cluster y", 'S', 1, 1, false};
  ProcessInfo sleeper{12, 1, "sleep", "sleep 300", 'S', 1, 1, false};
  EXPECT_EQ(compiled->protecting_pattern(sshd), "^sshd$");
  EXPECT_EQ(compiled->protecting_pattern(nats), "nats-server .*--cluster");
  EXPECT_FALSE(compiled->protecting_pattern(sleeper));
}

TEST(ProtectedProcesses, BadPatternIsAnError) {
  auto compiled = ProtectedProcesses::compile({"ok", "(unclosed"});
  EXPECT_EQ(compiled.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(compiled.status().message().find("'(unclosed'"), std::string::npos);
}

}  // namespace
}  // namespace chaos::agent
