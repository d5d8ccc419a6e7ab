// The network kinds with a fake command runner and a fake packet engine:
// validation at the edge, backend choice, all-or-nothing apply, revert and
// recovery by name.
#include "agent/faults/network/network_fault_kinds.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "agent/faults/network/rules/object_names.h"
#include "tests/support/fake_command_runner.h"

namespace chaos::agent::network {
namespace {

using chaos::testing::FakeCommandRunner;

class FakeEngine final : public PacketEngine {
 public:
  FakeEngine(std::uint16_t queue, int* live) : queue_(queue), live_(live) { ++*live_; }
  ~FakeEngine() override { --*live_; }
  std::uint16_t queue_number() const override { return queue_; }
  EngineStats stats() const override { return {}; }

 private:
  std::uint16_t queue_;
  int* live_;
};

class NetworkFaultKindsTest : public ::testing::Test {
 protected:
  void make_kinds(NetworkCapabilities capabilities) {
    env_.protected_ports = {9700, 9701};
    env_.commands = &commands_;
    env_.clock = &clock_;
    // Removal checks: chains and tables are gone once deleted.
    commands_.fail_on("-S CHAOS-", "iptables: No chain/target/match by that name.");
    commands_.fail_on("-D POSTROUTING", "no rule");
    commands_.fail_on("-D PREROUTING", "no rule");
    commands_.fail_on("list table", "No such file or directory");
    commands_.on("qdisc show", [](const auto&) -> StatusOr<CommandResult> {
      return CommandResult{0, "qdisc noqueue 0: root refcnt 2\n", ""};
    });
    kinds_ = make_network_fault_kinds(env_, capabilities, [this](const EngineOptions& options) {
      started_.push_back(options);
      return StatusOr<std::unique_ptr<PacketEngine>>(
          std::make_unique<FakeEngine>(options.queue_number, &live_engines_));
    });
  }

  FaultKind& kind(const std::string& name) {
    auto it = std::find_if(kinds_.begin(), kinds_.end(), [&](const auto& k) { return k->name() == name; });
    if (it == kinds_.end()) throw std::runtime_error("no kind " + name);
    return **it;
  }

  bool ran(const std::string& needle) const {
    const auto lines = commands_.call_lines();
    return std::any_of(lines.begin(), lines.end(), [&](const auto& l) { return l.find(needle) != std::string::npos; });
  }

  static v1::FaultSpec delay_spec(const std::string& interface = "eth0") {
    v1::FaultSpec spec;
    spec.mutable_network_delay()->mutable_delay()->set_nanos(50'000'000);
    spec.mutable_network_delay()->mutable_scope()->set_interface(interface);
    return spec;
  }

  FakeCommandRunner commands_;
  FakeClock clock_;
  AgentEnvironment env_;
  std::vector<std::unique_ptr<FaultKind>> kinds_;
  std::vector<EngineOptions> started_;
  int live_engines_ = 0;
};

TEST_F(NetworkFaultKindsTest, FactoryRegistersEveryNetworkKind) {
  make_kinds({});
  std::vector<std::string> names;
  for (const auto& k : kinds_) names.push_back(k->name());
  EXPECT_EQ(names, (std::vector<std::string>{"network.delay", "network.loss", "network.partition",
                                             "network.bandwidth", "network.duplicate", "network.reorder"}));
  EXPECT_EQ(kind("network.delay").backend(), "nfqueue");
  EXPECT_EQ(kind("network.partition").backend(), "nftables");
}

TEST_F(NetworkFaultKindsTest, HostileSpecsAreRefusedWithTheField) {
  make_kinds({});
  struct Case {
    std::string kind;
    std::function<void(v1::FaultSpec&)> build;
    std::string field;
  };
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const std::vector<Case> cases = {
      {"network.delay", [](auto& s) { s.mutable_network_delay(); }, "network_delay.delay"},
      {"network.delay", [](auto& s) { s.mutable_network_delay()->mutable_delay()->set_seconds(-1); },
       "network_delay.delay"},
      {"network.delay", [](auto& s) { s.mutable_network_delay()->mutable_delay()->set_seconds(3600); },
       "network_delay.delay"},
      {"network.delay", [](auto& s) {
         s.mutable_network_delay()->mutable_delay()->set_seconds(1);
         s.mutable_network_delay()->mutable_jitter()->set_nanos(2'000'000'000);
       }, "network_delay.jitter"},
      {"network.delay", [](auto& s) {
         s.mutable_network_delay()->mutable_delay()->set_seconds(1);
         s.mutable_network_delay()->set_correlation_percent(100);
       }, "network_delay.correlation_percent"},
      {"network.delay", [](auto& s) { s.mutable_network_loss()->set_percent(5); }, "network_delay"},
      {"network.loss", [nan](auto& s) { s.mutable_network_loss()->set_percent(nan); }, "network_loss.percent"},
      {"network.loss", [](auto& s) { s.mutable_network_loss()->set_percent(0); }, "network_loss.percent"},
      {"network.loss", [](auto& s) { s.mutable_network_loss()->set_percent(100.5); }, "network_loss.percent"},
      {"network.loss", [](auto& s) { s.mutable_network_loss()->mutable_burst()->set_p_percent(1); },
       "network_loss.burst.r_percent"},
      {"network.partition", [](auto& s) { s.mutable_network_partition(); }, "network_partition.cidrs"},
      {"network.partition", [](auto& s) { s.mutable_network_partition()->add_cidrs("10.0.0.0/99"); },
       "network_partition.cidrs[0]"},
      {"network.bandwidth", [](auto& s) { s.mutable_network_bandwidth()->set_rate_bits_per_second(1); },
       "network_bandwidth.rate_bits_per_second"},
      {"network.duplicate", [](auto& s) { s.mutable_network_duplicate()->set_percent(-3); },
       "network_duplicate.percent"},
      {"network.reorder", [](auto& s) { s.mutable_network_reorder()->set_percent(25); }, "network_reorder.delay"},
  };
  for (const auto& test_case : cases) {
    v1::FaultSpec spec;
    test_case.build(spec);
    const auto status = kind(test_case.kind).validate(spec);
    ASSERT_FALSE(status.ok()) << test_case.field;
    EXPECT_EQ(status.code(), StatusCode::kInvalidArgument) << status.to_string();
    EXPECT_EQ(status.message().rfind(test_case.field, 0), 0u) << status.message();
    EXPECT_FALSE(kind(test_case.kind).apply(spec, FaultContext{"f", "e", {}}).ok());
  }
  EXPECT_TRUE(commands_.calls().empty());
  EXPECT_TRUE(started_.empty());
}

TEST_F(NetworkFaultKindsTest, DelayOnTheEngineSteersToItsQueueAndRevertRemovesEverything) {
  make_kinds({});
  auto live = kind("network.delay").apply(delay_spec(), FaultContext{"fault-1", "exp", {}});
  ASSERT_TRUE(live.ok()) << live.status().to_string();
  EXPECT_EQ((*live)->backend(), "nfqueue");
  ASSERT_EQ(started_.size(), 1u);
  EXPECT_EQ(started_[0].impairment.delay, std::chrono::milliseconds(50));
  EXPECT_GE(started_[0].queue_max_length, 4096u);
  const std::string queue = std::to_string(started_[0].queue_number);
  EXPECT_TRUE(ran("-o eth0 -j NFQUEUE --queue-num " + queue + " --queue-bypass"));
  EXPECT_TRUE(ran("--ports 9700,9701 -j RETURN"));
  EXPECT_EQ((*live)->undo_record()["queue"], started_[0].queue_number);
  EXPECT_NE((*live)->detail().find("delay 50ms"), std::string::npos) << (*live)->detail();

  commands_.clear();
  ASSERT_TRUE((*live)->revert().ok());
  EXPECT_EQ(live_engines_, 0);
  const auto chain = fault_object_names("fault-1").egress_chain;
  EXPECT_TRUE(ran("-X " + chain));
  // Idempotent and the scope is free again.
  EXPECT_TRUE((*live)->revert().ok());
  EXPECT_TRUE(kind("network.delay").apply(delay_spec(), FaultContext{"fault-2", "exp", {}}).ok());
}

TEST_F(NetworkFaultKindsTest, LastRevertDeletesTheMangleTableIptablesCreatedForTheFaults) {
  make_kinds({});  // no mangle table before the first fault
  auto first = kind("network.delay").apply(delay_spec("eth0"), FaultContext{"fault-1", "exp", {}});
  auto second = kind("network.delay").apply(delay_spec("eth1"), FaultContext{"fault-2", "exp", {}});
  ASSERT_TRUE(first.ok() && second.ok());
  // What iptables-nft leaves once our chains are gone: an empty base chain.
  commands_.on("list table ip mangle", [](const auto&) -> StatusOr<CommandResult> {
    return CommandResult{0,
                         R"({"nftables": [{"table": {"family": "ip", "name": "mangle"}}, {"chain": {"family": "ip",)"
                         R"( "table": "mangle", "name": "POSTROUTING", "hook": "postrouting", "policy": "accept"}}]})",
                         ""};
  });
  ASSERT_TRUE((*first)->revert().ok());
  EXPECT_FALSE(ran("nft delete table")) << "fault-2 still steers through it";
  ASSERT_TRUE((*second)->revert().ok());
  EXPECT_TRUE(ran("nft delete table ip mangle"));
  EXPECT_FALSE(ran("nft delete table ip6 mangle"));
}

TEST_F(NetworkFaultKindsTest, OverlappingEngineFaultIsRefusedButDisjointOneIsNot) {
  make_kinds({});
  auto first = kind("network.delay").apply(delay_spec("eth0"), FaultContext{"first", "exp", {}});
  ASSERT_TRUE(first.ok());
  auto overlapping = kind("network.reorder").validate(v1::FaultSpec{});
  (void)overlapping;
  v1::FaultSpec duplicate;
  duplicate.mutable_network_duplicate()->set_percent(5);  // every interface: overlaps eth0
  auto refused = kind("network.duplicate").apply(duplicate, FaultContext{"second", "exp", {}});
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(refused.status().message().find("first"), std::string::npos);
  EXPECT_EQ(live_engines_, 1);
  EXPECT_TRUE(kind("network.delay").apply(delay_spec("eth1"), FaultContext{"third", "exp", {}}).ok());
}

TEST_F(NetworkFaultKindsTest, FailedSteeringStopsTheEngineAndFreesTheScope) {
  make_kinds({});
  commands_.fail_on("-j NFQUEUE", "iptables: No chain/target/match by that name.");
  auto failed = kind("network.delay").apply(delay_spec(), FaultContext{"fault-1", "exp", {}});
  ASSERT_FALSE(failed.ok());
  EXPECT_NE(failed.status().message().find("No chain/target/match"), std::string::npos);
  EXPECT_EQ(live_engines_, 0);
  EXPECT_TRUE(ran("-X " + fault_object_names("fault-1").egress_chain));
  commands_.on("-j NFQUEUE", [](const auto&) -> StatusOr<CommandResult> { return CommandResult{}; });
  EXPECT_TRUE(kind("network.delay").apply(delay_spec(), FaultContext{"fault-1", "exp", {}}).ok());
}

TEST_F(NetworkFaultKindsTest, QueueBoundByAnotherProgramIsSkipped) {
  env_.commands = &commands_;
  commands_.fail_on("list table", "No such file or directory");  // no mangle table yet
  kinds_ = make_network_fault_kinds(env_, {}, [this](const EngineOptions& options) {
    started_.push_back(options);
    if (started_.size() == 1) return StatusOr<std::unique_ptr<PacketEngine>>(already_exists("queue taken"));
    return StatusOr<std::unique_ptr<PacketEngine>>(std::make_unique<FakeEngine>(options.queue_number, &live_engines_));
  });
  auto live = kind("network.delay").apply(delay_spec(), FaultContext{"fault-1", "exp", {}});
  ASSERT_TRUE(live.ok());
  ASSERT_EQ(started_.size(), 2u);
  EXPECT_NE(started_[0].queue_number, started_[1].queue_number);
}

TEST_F(NetworkFaultKindsTest, NetemKernelUsesAQdiscTreeWithClassifySteering) {
  make_kinds(NetworkCapabilities{true, true});
  auto spec = delay_spec();
  spec.mutable_network_delay()->mutable_jitter()->set_nanos(5'000'000);
  spec.mutable_network_delay()->set_distribution(v1::NetworkDelay::DISTRIBUTION_PARETO);
  auto live = kind("network.delay").apply(spec, FaultContext{"fault-1", "exp", {}});
  ASSERT_TRUE(live.ok()) << live.status().to_string();
  EXPECT_EQ((*live)->backend(), "netem");
  EXPECT_TRUE(started_.empty());
  EXPECT_TRUE(ran("tc qdisc add dev eth0 parent cafe:1 handle cafd: netem limit 13000 delay 50000us 5000us "
                  "distribution pareto"));
  EXPECT_TRUE(ran("-o eth0 -j CLASSIFY --set-class cafe:1"));
}

TEST_F(NetworkFaultKindsTest, PlainLossIsAnNftRuleAndBurstLossRunsOnTheEngine) {
  make_kinds({});
  v1::FaultSpec plain;
  plain.mutable_network_loss()->set_percent(12.5);
  auto live = kind("network.loss").apply(plain, FaultContext{"plain", "exp", {}});
  ASSERT_TRUE(live.ok());
  EXPECT_EQ((*live)->backend(), "nftables");
  EXPECT_NE(commands_.stdin_texts().back().find("numgen random mod 1000000 < 125000 drop"), std::string::npos);

  v1::FaultSpec burst;
  burst.mutable_network_loss()->mutable_burst()->set_p_percent(1);
  burst.mutable_network_loss()->mutable_burst()->set_r_percent(30);
  auto bursty = kind("network.loss").apply(burst, FaultContext{"burst", "exp", {}});
  ASSERT_TRUE(bursty.ok()) << bursty.status().to_string();
  EXPECT_EQ((*bursty)->backend(), "nfqueue");
  ASSERT_EQ(started_.size(), 1u);
  ASSERT_TRUE(started_[0].impairment.burst_loss.has_value());
  EXPECT_DOUBLE_EQ(started_[0].impairment.burst_loss->loss_in_bad, 1.0);
}

TEST_F(NetworkFaultKindsTest, PartitionDropsBothWaysByDefault) {
  make_kinds({});
  v1::FaultSpec spec;
  spec.mutable_network_partition()->add_cidrs("10.0.0.2");
  auto live = kind("network.partition").apply(spec, FaultContext{"cut", "exp", {}});
  ASSERT_TRUE(live.ok());
  const std::string text = commands_.stdin_texts().back();
  EXPECT_NE(text.find("ip daddr { 10.0.0.2/32 } drop"), std::string::npos) << text;
  EXPECT_NE(text.find("ip saddr { 10.0.0.2/32 } drop"), std::string::npos) << text;
  EXPECT_NE(text.find("th dport { 9700, 9701 } accept"), std::string::npos) << text;
}

TEST_F(NetworkFaultKindsTest, BandwidthUsesTbfOnAnInterfaceElseTheEngineRate) {
  make_kinds(NetworkCapabilities{false, true});
  v1::FaultSpec spec;
  spec.mutable_network_bandwidth()->set_rate_bits_per_second(8'000'000);
  spec.mutable_network_bandwidth()->mutable_scope()->set_interface("eth0");
  auto shaped = kind("network.bandwidth").apply(spec, FaultContext{"tbf", "exp", {}});
  ASSERT_TRUE(shaped.ok()) << shaped.status().to_string();
  EXPECT_EQ((*shaped)->backend(), "tbf");
  EXPECT_TRUE(ran("tbf rate 8000000bit burst 10000 latency 50000us"));

  spec.mutable_network_bandwidth()->mutable_scope()->set_interface("");
  auto engine = kind("network.bandwidth").apply(spec, FaultContext{"engine", "exp", {}});
  ASSERT_TRUE(engine.ok()) << engine.status().to_string();
  EXPECT_EQ((*engine)->backend(), "nfqueue");
  EXPECT_EQ(started_.back().impairment.rate_bits_per_second, 8'000'000u);
}

TEST_F(NetworkFaultKindsTest, EngineDuplicatesOnlyEgress) {
  make_kinds({});
  v1::FaultSpec spec;
  spec.mutable_network_duplicate()->set_percent(5);
  spec.mutable_network_duplicate()->mutable_scope()->set_direction(v1::DIRECTION_INGRESS);
  auto refused = kind("network.duplicate").apply(spec, FaultContext{"dup", "exp", {}});
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kInvalidArgument);
}

TEST_F(NetworkFaultKindsTest, RecoverRemovesObjectsByNameAndIsIdempotent) {
  make_kinds({});
  ASSERT_TRUE(kind("network.delay").recover(delay_spec(), FaultContext{"old", "exp", {}}, nlohmann::json()).ok());
  const auto names = fault_object_names("old");
  EXPECT_TRUE(ran("-X " + names.egress_chain));
  EXPECT_TRUE(ran("-X " + names.ingress_chain));
  EXPECT_TRUE(ran("nft list table inet " + names.nft_table));
  EXPECT_TRUE(ran("tc qdisc show dev eth0 root"));
  EXPECT_TRUE(kind("network.delay").recover(delay_spec(), FaultContext{"old", "exp", {}}, nlohmann::json()).ok());
}

}  // namespace
}  // namespace chaos::agent::network
