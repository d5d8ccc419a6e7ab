#include "agent/policy.h"

#include <gtest/gtest.h>

namespace chaos::agent {
namespace {

using namespace std::chrono_literals;

// A kind whose own limits refuse anything once `refuse` is set.
class LimitedKind final : public FaultKind {
 public:
  explicit LimitedKind(std::string name) : name_(std::move(name)) {}
  std::string name() const override { return name_; }
  Status validate(const v1::FaultSpec&) const override { return {}; }
  Status check_policy_limits(const Policy& policy, const v1::FaultSpec&) const override {
    ++limit_checks;
    return check_max_delay(policy, "limited.delay", asked_delay);
  }
  StatusOr<std::unique_ptr<LiveFault>> apply(const v1::FaultSpec&, const FaultContext&) override {
    return unimplemented("not in this test");
  }
  Status recover(const v1::FaultSpec&, const FaultContext&, const nlohmann::json&) override { return {}; }
  std::string backend() const override { return ""; }

  Duration asked_delay{0};
  mutable int limit_checks = 0;

 private:
  std::string name_;
};

TEST(Policy, EmptyPolicyAllowsEverything) {
  LimitedKind kind("network.loss");
  kind.asked_delay = std::chrono::hours(1);
  EXPECT_TRUE(check_policy(Policy{}, kind, v1::FaultSpec()).ok());
  EXPECT_EQ(kind.limit_checks, 1);
}

TEST(Policy, RefusesKindsOutsideAllowedKinds) {
  Policy policy;
  policy.allowed_kinds = {"process.kill"};
  LimitedKind pause("process.pause");
  auto status = check_policy(policy, pause, v1::FaultSpec());
  EXPECT_EQ(status.code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(status.message(), "policy: fault kind 'process.pause' is not in allowed_kinds");
  EXPECT_TRUE(check_policy(policy, LimitedKind("process.kill"), v1::FaultSpec()).ok());
}

TEST(Policy, TheKindsOwnLimitsDecideAfterAllowedKinds) {
  Policy policy;
  policy.max_delay = 1s;
  LimitedKind kind("limited.kind");
  kind.asked_delay = 1s;
  EXPECT_TRUE(check_policy(policy, kind, v1::FaultSpec()).ok());
  kind.asked_delay = 1100ms;
  auto status = check_policy(policy, kind, v1::FaultSpec());
  EXPECT_EQ(status.code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(status.message(), "policy: limited.delay 1.1s exceeds max_delay 1s");
}

TEST(Policy, LimitHelpersNameTheFieldTheValueAndTheLimit) {
  Policy policy;
  EXPECT_TRUE(check_max_delay(policy, "x.delay", std::chrono::hours(1)).ok()) << "max_delay 0 means no limit";
  EXPECT_TRUE(check_max_loss_percent(policy, "x", 100).ok()) << "no max_loss_percent means no limit";
  policy.max_delay = 1s;
  policy.max_loss_percent = 50;
  EXPECT_TRUE(check_max_loss_percent(policy, "network_loss", 50).ok());
  const Status loss = check_max_loss_percent(policy, "network_loss", 60);
  EXPECT_EQ(loss.code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(loss.message(), "policy: network_loss: 60% loss exceeds max_loss_percent 50%");
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
