// The network kinds with a fake command runner and a fake packet engine:
// validation at the edge, backend choice, all-or-nothing apply, revert and
// recovery by name.
#include "agent/faults/network/network_fault_kinds.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <set>

#include "agent/faults/network/rules/iptables_steering.h"
#include "agent/faults/network/rules/nft_drop_table.h"
#include "agent/faults/network/rules/object_names.h"
#include "agent/policy.h"
#include "agent/rollback_stack.h"
#include "tests/support/fake_command_runner.h"
#include "tests/unit/agent/faults/network/fake_netfilter.h"

namespace chaos::agent::network {
namespace {

using chaos::testing::FakeCommandRunner;
using namespace std::chrono_literals;

class FakeEngine final : public PacketEngine {
 public:
  FakeEngine(std::uint16_t queue, int* live, std::string* failure = nullptr, const EngineStats* stats = nullptr)
      : queue_(queue), live_(live), failure_(failure), stats_(stats) {
    ++*live_;
  }
  ~FakeEngine() override { --*live_; }
  std::uint16_t queue_number() const override { return queue_; }
  EngineStats stats() const override { return stats_ != nullptr ? *stats_ : EngineStats{}; }
  std::string failure() const override { return failure_ != nullptr ? *failure_ : ""; }

 private:
  std::uint16_t queue_;
  int* live_;
  std::string* failure_;
  const EngineStats* stats_;
};

std::map<std::string, std::uint64_t> counters_of(const FaultEffect& effect) {
  std::map<std::string, std::uint64_t> counters;
  for (const auto& counter : effect.counters) counters[counter.name] = counter.value;
  return counters;
}

class NetworkFaultKindsTest : public ::testing::Test {
 protected:
  void make_kinds(NetworkCapabilities capabilities) {
    env_.protected_ports = {9700, 9701};
    env_.commands = &commands_;
    env_.clock = &clock_;
    kinds_ = make_network_fault_kinds(
        env_, capabilities,
        [this](const EngineOptions& options) {
          started_.push_back(options);
          return StatusOr<std::unique_ptr<PacketEngine>>(
              std::make_unique<FakeEngine>(options.queue_number, &live_engines_, &engine_failure_,
                                           &engine_stats_));
        },
        options_);
  }

  FaultKind& kind(const std::string& name) {
    auto it = std::find_if(kinds_.begin(), kinds_.end(), [&](const auto& k) { return k->name() == name; });
    if (it == kinds_.end()) throw std::runtime_error("no kind " + name);
    return **it;
  }

  static v1::FaultSpec delay_spec(const std::string& interface = "eth0") {
    v1::FaultSpec spec;
    spec.mutable_network_delay()->mutable_delay()->set_nanos(50'000'000);
    spec.mutable_network_delay()->mutable_scope()->set_interface(interface);
    return spec;
  }

  FakeCommandRunner commands_;
  testing::FakeNetfilter kernel_{commands_};
  NetworkFaultOptions options_;
  std::string engine_failure_;
  EngineStats engine_stats_;
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
  for (const auto& k : kinds_) {
    EXPECT_EQ(k->required_capabilities(), (std::vector<std::string>{"CAP_NET_ADMIN", "CAP_NET_RAW"})) << k->name();
    // Rules, qdiscs and engine threads end with the kernel: records are not flushed.
    EXPECT_FALSE(k->effect_survives_reboot()) << k->name();
  }
}

TEST_F(NetworkFaultKindsTest, StartUpDeletesAMangleBaselineOfAnEarlierBootFromTheStateDir) {
  const auto state_dir = std::filesystem::path(::testing::TempDir()) / ("kinds-baseline-" + std::to_string(getpid()));
  std::filesystem::create_directories(state_dir / "network");
  const auto stale = state_dir / "network" / "mangle-baseline-net-4026532301.json";
  std::ofstream(stale) << R"({"boot_id":"an-earlier-boot","ip":{"existed":false,"chains":[]}})";
  env_.state_dir = state_dir.string();
  make_kinds({});
  EXPECT_FALSE(std::filesystem::exists(stale)) << "its container went with that kernel: no recovery reaches it";
  std::filesystem::remove_all(state_dir);
}

TEST_F(NetworkFaultKindsTest, EachKindChecksThePolicyLimitsOfWhatItAsksFor) {
  make_kinds({});
  Policy policy;
  policy.max_delay = 1s;
  policy.max_loss_percent = 50;
  v1::FaultSpec delay = delay_spec();
  delay.mutable_network_delay()->mutable_delay()->set_nanos(900'000'000);
  EXPECT_TRUE(check_policy(policy, kind("network.delay"), delay).ok());
  delay.mutable_network_delay()->mutable_jitter()->set_nanos(200'000'000);
  const Status delay_refused = check_policy(policy, kind("network.delay"), delay);
  EXPECT_EQ(delay_refused.code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(delay_refused.message(), "policy: network_delay.delay + jitter 1.1s exceeds max_delay 1s");
  // Normal and Pareto jitter reach 4 standard deviations.
  delay.mutable_network_delay()->mutable_delay()->set_nanos(500'000'000);
  delay.mutable_network_delay()->mutable_jitter()->set_nanos(125'000'000);
  EXPECT_TRUE(check_policy(policy, kind("network.delay"), delay).ok());
  delay.mutable_network_delay()->set_distribution(v1::NetworkDelay::DISTRIBUTION_PARETO);
  EXPECT_TRUE(check_policy(policy, kind("network.delay"), delay).ok()) << "500ms + 4 x 125ms is the bound itself";
  delay.mutable_network_delay()->mutable_jitter()->set_nanos(150'000'000);
  EXPECT_EQ(check_policy(policy, kind("network.delay"), delay).message(),
            "policy: network_delay.delay + 4 x jitter 1.1s exceeds max_delay 1s");

  v1::FaultSpec reorder;
  reorder.mutable_network_reorder()->set_percent(10);
  reorder.mutable_network_reorder()->mutable_delay()->set_seconds(2);
  EXPECT_EQ(check_policy(policy, kind("network.reorder"), reorder).message(),
            "policy: network_reorder.delay 2s exceeds max_delay 1s");

  v1::FaultSpec loss;
  loss.mutable_network_loss()->set_percent(60);
  EXPECT_EQ(check_policy(policy, kind("network.loss"), loss).message(),
            "policy: network_loss: 60% loss exceeds max_loss_percent 50%");
  loss.mutable_network_loss()->set_percent(10);
  EXPECT_TRUE(check_policy(policy, kind("network.loss"), loss).ok());
  loss.mutable_network_loss()->mutable_burst()->set_loss_in_bad_percent(90);
  EXPECT_EQ(check_policy(policy, kind("network.loss"), loss).code(), StatusCode::kPermissionDenied)
      << "the burst model's bad state counts";
  // Left unset, the bad state loses 100 % (as netem's gemodel): that counts,
  // not the 0 on the wire.
  v1::FaultSpec unset_bad;
  unset_bad.mutable_network_loss()->set_percent(1);
  unset_bad.mutable_network_loss()->mutable_burst()->set_p_percent(1);
  unset_bad.mutable_network_loss()->mutable_burst()->set_r_percent(1);
  EXPECT_EQ(check_policy(policy, kind("network.loss"), unset_bad).message(),
            "policy: network_loss: 100% loss exceeds max_loss_percent 50%");

  // Kinds without a delay or loss are not limited by them.
  v1::FaultSpec partition;
  partition.mutable_network_partition()->add_cidrs("10.0.0.0/8");
  EXPECT_TRUE(check_policy(policy, kind("network.partition"), partition).ok());
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
  const auto chain = fault_object_names("fault-1").egress_chain;
  EXPECT_EQ(kernel_.rules(4, chain),
            (std::vector<std::string>{"-p tcp -m multiport --ports 9700,9701 -j RETURN",
                                      "-p udp -m multiport --ports 9700,9701 -j RETURN",
                                      "-m mark --mark 1128808787 -j RETURN",
                                      "-o eth0 -j NFQUEUE --queue-num " + queue + " --queue-bypass"}));
  EXPECT_EQ(kernel_.rules(4, "POSTROUTING"), (std::vector<std::string>{"-j " + chain}));
  EXPECT_EQ(kernel_.chains(6), (std::set<std::string>{chain}));
  EXPECT_EQ((*live)->undo_record()["queue"], started_[0].queue_number);
  EXPECT_NE((*live)->detail().find("delay 50ms"), std::string::npos) << (*live)->detail();

  ASSERT_TRUE((*live)->revert().ok());
  EXPECT_EQ(live_engines_, 0);
  EXPECT_TRUE(kernel_.clean()) << kernel_.describe();
  EXPECT_TRUE(kernel_.tables().empty()) << "the mangle tables iptables-nft made are gone again";
  // Idempotent and the scope is free again.
  EXPECT_TRUE((*live)->revert().ok());
  EXPECT_TRUE(kind("network.delay").apply(delay_spec(), FaultContext{"fault-2", "exp", {}}).ok());
}

TEST_F(NetworkFaultKindsTest, RevertThatCannotRemoveItsChainFailsKeepsTheScopeAndSucceedsOnRetry) {
  make_kinds({});
  auto live = kind("network.delay").apply(delay_spec(), FaultContext{"fault-1", "exp", {}});
  ASSERT_TRUE(live.ok()) << live.status().to_string();
  const auto chain = fault_object_names("fault-1").egress_chain;
  kernel_.fail_commands_containing("-X " + chain);
  const auto failed = (*live)->revert();
  ASSERT_FALSE(failed.ok()) << "the chain is still there";
  EXPECT_NE(failed.message().find(chain), std::string::npos) << failed.message();
  EXPECT_EQ(kernel_.chains(4), (std::set<std::string>{chain}));
  EXPECT_EQ(live_engines_, 0) << "the rest is undone (the queue is bypassed without an engine)";
  auto overlapping = kind("network.delay").apply(delay_spec(), FaultContext{"fault-2", "exp", {}});
  EXPECT_EQ(overlapping.status().code(), StatusCode::kFailedPrecondition) << "scope kept while its rule is there";
  // Its queue number too: the stuck rule still sends fault-1's packets there.
  auto elsewhere = kind("network.delay").apply(delay_spec("eth1"), FaultContext{"fault-3", "exp", {}});
  ASSERT_TRUE(elsewhere.ok()) << elsewhere.status().to_string();
  ASSERT_EQ(started_.size(), 2u);
  EXPECT_NE(started_[1].queue_number, started_[0].queue_number);
  ASSERT_TRUE((*elsewhere)->revert().ok());

  kernel_.clear_failures();
  ASSERT_TRUE((*live)->revert().ok());
  EXPECT_TRUE(kernel_.clean()) << kernel_.describe();
  EXPECT_TRUE(kernel_.tables().empty()) << "the retry also restored the mangle tables";
  EXPECT_TRUE(kind("network.delay").apply(delay_spec(), FaultContext{"fault-2", "exp", {}}).ok());
}

TEST_F(NetworkFaultKindsTest, FailedEngineEndsTheFaultThroughOnTick) {
  make_kinds({});
  auto live = kind("network.delay").apply(delay_spec(), FaultContext{"fault-1", "exp", {}});
  ASSERT_TRUE(live.ok());
  EXPECT_TRUE((*live)->on_tick(clock_.steady_now()).ok());
  engine_failure_ = "exception: std::bad_alloc";
  const auto status = (*live)->on_tick(clock_.steady_now());
  EXPECT_EQ(status.code(), StatusCode::kAborted);
  EXPECT_EQ(status.message().rfind("engine_failed: ", 0), 0u) << status.message();
  EXPECT_NE(status.message().find("bad_alloc"), std::string::npos) << status.message();
  ASSERT_TRUE((*live)->revert().ok());
  EXPECT_TRUE((*live)->on_tick(clock_.steady_now()).ok()) << "nothing left to fail";
}

TEST_F(NetworkFaultKindsTest, EngineByteCapComesFromTheKindsOptions) {
  options_.engine_max_held_bytes = 1 << 20;
  make_kinds({});
  ASSERT_TRUE(kind("network.delay").apply(delay_spec(), FaultContext{"fault-1", "exp", {}}).ok());
  ASSERT_EQ(started_.size(), 1u);
  EXPECT_EQ(started_[0].max_held_bytes, std::size_t{1} << 20);
  EXPECT_EQ(NetworkFaultOptions{}.engine_max_held_bytes, std::size_t{64} << 20);
}

TEST_F(NetworkFaultKindsTest, LastRevertDeletesTheMangleTableIptablesCreatedForTheFaults) {
  make_kinds({});  // no mangle table before the first fault
  auto first = kind("network.delay").apply(delay_spec("eth0"), FaultContext{"fault-1", "exp", {}});
  auto second = kind("network.delay").apply(delay_spec("eth1"), FaultContext{"fault-2", "exp", {}});
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_EQ(kernel_.tables(), (std::set<std::string>{"ip mangle", "ip6 mangle"}));
  ASSERT_TRUE((*first)->revert().ok());
  EXPECT_EQ(kernel_.tables(), (std::set<std::string>{"ip mangle", "ip6 mangle"})) << "fault-2 still steers";
  ASSERT_TRUE((*second)->revert().ok());
  EXPECT_TRUE(kernel_.tables().empty()) << kernel_.describe();
}

TEST_F(NetworkFaultKindsTest, HostMangleTableIsLeftAsItWas) {
  // The host steers something of its own before any fault.
  RunOptions host_rule;
  host_rule.stdin_text = "*mangle\n:HOST - [0:0]\n-A OUTPUT -j HOST\nCOMMIT\n";
  ASSERT_TRUE(commands_.run_checked({"iptables-restore", "--noflush"}, host_rule).ok());
  make_kinds({});
  auto live = kind("network.delay").apply(delay_spec("eth0"), FaultContext{"fault-1", "exp", {}});
  ASSERT_TRUE(live.ok());
  ASSERT_TRUE((*live)->revert().ok());
  EXPECT_EQ(kernel_.chains(4), (std::set<std::string>{"HOST"}));
  EXPECT_EQ(kernel_.rules(4, "OUTPUT"), (std::vector<std::string>{"-j HOST"}));
  EXPECT_EQ(kernel_.tables(), (std::set<std::string>{"ip mangle"})) << "the host's table stays, ip6 goes";
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
  kernel_.fail_commands_containing("ip6tables-restore");  // the second family's batch
  auto failed = kind("network.delay").apply(delay_spec(), FaultContext{"fault-1", "exp", {}});
  ASSERT_FALSE(failed.ok());
  EXPECT_NE(failed.status().message().find("Operation not permitted"), std::string::npos);
  EXPECT_EQ(live_engines_, 0);
  EXPECT_TRUE(kernel_.clean()) << kernel_.describe();
  EXPECT_TRUE(kernel_.tables().empty()) << kernel_.describe();
  kernel_.clear_failures();
  EXPECT_TRUE(kind("network.delay").apply(delay_spec(), FaultContext{"fault-1", "exp", {}}).ok());
}

TEST_F(NetworkFaultKindsTest, AQdiscTheFailedApplyCannotRemoveGoesToTheRegistryAndKeepsItsScopeReserved) {
  make_kinds(NetworkCapabilities{true, true});  // netem: a qdisc tree, then steering
  kernel_.fail_commands_containing("ip6tables-restore");
  kernel_.fail_commands_containing("qdisc del");
  RollbackStack unfinished;
  auto failed = kind("network.delay").apply(delay_spec("eth0"), FaultContext{"fault-1", "exp", {}, nullptr, nullptr,
                                                                             &unfinished});
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(unfinished.pending(), "scope reservation, qdisc tree");
  EXPECT_EQ(kernel_.qdisc_trees().size(), 1u) << kernel_.describe();
  kernel_.clear_failures();
  auto behind_the_tree = kind("network.delay").apply(delay_spec("eth0"), FaultContext{"fault-2", "exp", {}});
  EXPECT_EQ(behind_the_tree.status().code(), StatusCode::kFailedPrecondition)
      << "the scope stays reserved while the failed apply's tree is there";
  ASSERT_TRUE(unfinished.unwind().ok());
  EXPECT_TRUE(kernel_.qdisc_trees().empty()) << kernel_.describe();
  EXPECT_TRUE(kernel_.clean()) << kernel_.describe();
  EXPECT_TRUE(kind("network.delay").apply(delay_spec("eth0"), FaultContext{"fault-2", "exp", {}}).ok());
}

TEST_F(NetworkFaultKindsTest, QueueBoundByAnotherProgramIsSkipped) {
  env_.commands = &commands_;
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
  const auto names = fault_object_names("fault-1");
  const auto batches = commands_.stdin_texts();
  EXPECT_TRUE(std::any_of(batches.begin(), batches.end(), [&](const std::string& text) {
    return text.find("qdisc add dev eth0 parent cafe:1 handle " + names.qdisc_leaf_handle +
                     " netem limit 13000 delay 50000us 5000us distribution pareto") != std::string::npos;
  }));
  EXPECT_EQ(kernel_.qdisc_trees(), (std::map<std::string, std::string>{{"eth0", names.qdisc_leaf_handle}}));
  EXPECT_EQ(kernel_.rules(4, names.egress_chain), (std::vector<std::string>{
                                                      "-p tcp -m multiport --ports 9700,9701 -j RETURN",
                                                      "-p udp -m multiport --ports 9700,9701 -j RETURN",
                                                      "-o eth0 -j CLASSIFY --set-class cafe:1"}));
  ASSERT_TRUE((*live)->revert().ok());
  EXPECT_TRUE(kernel_.clean()) << kernel_.describe();
}

TEST_F(NetworkFaultKindsTest, PlainLossIsAnNftRuleAndBurstLossRunsOnTheEngine) {
  make_kinds({});
  v1::FaultSpec plain;
  plain.mutable_network_loss()->set_percent(12.5);
  auto live = kind("network.loss").apply(plain, FaultContext{"plain", "exp", {}});
  ASSERT_TRUE(live.ok());
  EXPECT_EQ((*live)->backend(), "nftables");
  EXPECT_NE(commands_.stdin_texts().back().find("numgen random mod 1000000 < 125000 counter drop"),
            std::string::npos);
  EXPECT_EQ(kernel_.tables(), (std::set<std::string>{"inet " + fault_object_names("plain").nft_table}));

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
  EXPECT_NE(text.find("ip daddr { 10.0.0.2/32 } counter drop"), std::string::npos) << text;
  EXPECT_NE(text.find("ip saddr { 10.0.0.2/32 } counter drop"), std::string::npos) << text;
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
  const auto batches = commands_.stdin_texts();
  EXPECT_TRUE(std::any_of(batches.begin(), batches.end(), [](const std::string& text) {
    return text.find("tbf rate 8000000bit burst 10000 latency 50000us") != std::string::npos;
  }));

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

// What a crashed agent leaves for one fault id: steering chains (both
// families, jumps included), its nft table and its qdisc tree.
void leave_everything_of(FakeCommandRunner& commands, testing::FakeNetfilter& kernel, const std::string& id,
                         const std::string& interface) {
  const auto names = fault_object_names(id);
  TrafficScope scope;
  scope.interface = interface;
  scope.ingress = true;
  ASSERT_TRUE(install_steering(commands, SteeringPlan{names.egress_chain, names.ingress_chain, scope, {9700},
                                                      SteeringTarget{SteeringTarget::Kind::kQueue, 31200, ""}})
                  .ok());
  ASSERT_TRUE(install_drop_table(commands, DropTablePlan{names.nft_table, scope, {}, 1}).ok());
  kernel.add_qdisc_tree(interface, names.qdisc_leaf_handle);
}

TEST_F(NetworkFaultKindsTest, RecoverRemovesObjectsByNameAndIsIdempotent) {
  make_kinds({});
  leave_everything_of(commands_, kernel_, "old", "eth0");
  ASSERT_FALSE(kernel_.clean());
  ASSERT_TRUE(kind("network.delay").recover(delay_spec(), FaultContext{"old", "exp", {}}, nlohmann::json()).ok());
  EXPECT_TRUE(kernel_.clean()) << kernel_.describe();
  EXPECT_TRUE(kind("network.delay").recover(delay_spec(), FaultContext{"old", "exp", {}}, nlohmann::json()).ok());
}

TEST_F(NetworkFaultKindsTest, RecoverByIdFindsEverythingOfThatFaultAndNothingElse) {
  make_kinds({});
  // A live fault of this agent, then a crashed agent's leftovers on another
  // interface, whose journal entry is unreadable: only the id is known.
  auto live = kind("network.delay").apply(delay_spec("eth0"), FaultContext{"live", "exp", {}});
  ASSERT_TRUE(live.ok());
  leave_everything_of(commands_, kernel_, "corrupt", "eth1");
  const auto live_names = fault_object_names("live");
  for (const auto& name : kinds_) {
    ASSERT_TRUE(name->recover_by_id(FaultContext{"corrupt", "", {}}).ok()) << name->name();
  }
  EXPECT_EQ(kernel_.chains(4), (std::set<std::string>{live_names.egress_chain})) << kernel_.describe();
  EXPECT_EQ(kernel_.rules(4, "PREROUTING"), (std::vector<std::string>{})) << "the jumps went with the chains";
  EXPECT_TRUE(kernel_.qdisc_trees().empty());
  EXPECT_EQ(kernel_.tables(), (std::set<std::string>{"ip mangle", "ip6 mangle"})) << "still used by 'live'";
  ASSERT_TRUE((*live)->revert().ok());
  EXPECT_TRUE(kernel_.clean()) << kernel_.describe();
  EXPECT_TRUE(kernel_.tables().empty()) << kernel_.describe();
}

TEST_F(NetworkFaultKindsTest, RecoverByIdKeepsAQdiscTreeOfAnotherFault) {
  make_kinds(NetworkCapabilities{true, true});
  v1::FaultSpec spec;
  spec.mutable_network_bandwidth()->set_rate_bits_per_second(8'000'000);
  spec.mutable_network_bandwidth()->mutable_scope()->set_interface("eth2");
  auto shaped = kind("network.bandwidth").apply(spec, FaultContext{"shaper", "exp", {}});
  ASSERT_TRUE(shaped.ok()) << shaped.status().to_string();
  ASSERT_TRUE(kind("network.bandwidth").recover_by_id(FaultContext{"some-other-id", "", {}}).ok());
  EXPECT_EQ(kernel_.qdisc_trees().count("eth2"), 1u);
  ASSERT_TRUE(kind("network.bandwidth").recover_by_id(FaultContext{"shaper", "", {}}).ok());
  EXPECT_TRUE(kernel_.clean()) << kernel_.describe();
}

// --- The proof: objects read back from the listings, counters, gone ---

TEST_F(NetworkFaultKindsTest, EngineFaultIsVerifiedFromTheListingsWithKernelAndEngineCounters) {
  make_kinds({});
  auto live = kind("network.delay").apply(delay_spec(), FaultContext{"fault-1", "exp", {}});
  ASSERT_TRUE(live.ok()) << live.status().to_string();
  const auto chain = fault_object_names("fault-1").egress_chain;

  auto armed = (*live)->verify_live();
  ASSERT_TRUE(armed.ok()) << armed.status().to_string();
  EXPECT_FALSE(armed->impaired);
  EXPECT_NE(armed->evidence.find("armed, no traffic yet"), std::string::npos) << armed->evidence;
  EXPECT_NE(armed->evidence.find("iptables mangle: " + chain + ": jump from POSTROUTING"), std::string::npos)
      << armed->evidence;
  EXPECT_NE(armed->evidence.find("ip6tables mangle: " + chain), std::string::npos) << armed->evidence;
  const auto lines = commands_.call_lines();
  EXPECT_NE(std::find(lines.begin(), lines.end(), "iptables-save -c -t mangle"), lines.end());

  kernel_.set_chain_packets(4, chain, 14);
  kernel_.set_chain_packets(6, chain, 2);
  engine_stats_.received = 16;
  engine_stats_.delayed = 15;
  engine_stats_.reinjected = 13;
  engine_stats_.send_failures = 1;
  auto seen = (*live)->verify_live();
  ASSERT_TRUE(seen.ok()) << seen.status().to_string();
  EXPECT_TRUE(seen->impaired);
  EXPECT_EQ(counters_of(*seen), (std::map<std::string, std::uint64_t>{{"packets_matched", 16},
                                                                      {"packets_delayed", 15},
                                                                      {"packets_dropped", 0},
                                                                      {"packets_duplicated", 0},
                                                                      {"packets_resent", 13},
                                                                      {"send_failures", 1}}));
  // observe() runs no command: the engine's own counters.
  commands_.clear();
  auto observed = (*live)->observe();
  ASSERT_TRUE(observed.ok());
  EXPECT_TRUE(observed->impaired);
  EXPECT_EQ(counters_of(*observed)["packets_matched"], 16u);
  EXPECT_TRUE(commands_.calls().empty());
}

TEST_F(NetworkFaultKindsTest, VerifyLiveNamesWhatIsMissingFromTheListing) {
  make_kinds({});
  auto live = kind("network.delay").apply(delay_spec(), FaultContext{"fault-1", "exp", {}});
  ASSERT_TRUE(live.ok());
  const auto chain = fault_object_names("fault-1").egress_chain;
  const std::string queue = std::to_string(started_[0].queue_number);
  kernel_.erase_rule(6, chain, 3);  // the NFQUEUE rule
  auto no_target = (*live)->verify_live();
  EXPECT_EQ(no_target.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(no_target.status().message(),
            "ip6tables mangle: no NFQUEUE --queue-num " + queue + " rule in " + chain);
  kernel_.erase_rule(4, "POSTROUTING", 0);
  auto no_jump = (*live)->verify_live();
  EXPECT_EQ(no_jump.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(no_jump.status().message(), "iptables mangle: no jump from POSTROUTING to " + chain);
}

TEST_F(NetworkFaultKindsTest, RulesThatNeverAppearFailVerifyLive) {
  make_kinds(NetworkCapabilities{false, true});
  // A kernel that accepts every batch and keeps nothing.
  commands_.on_input("iptables-restore", [](const auto&, const std::string&) {
    return StatusOr<CommandResult>(CommandResult{});
  });
  commands_.on_input("nft -f", [](const auto&, const std::string&) { return StatusOr<CommandResult>(CommandResult{}); });
  commands_.on_input("tc -batch", [](const auto&, const std::string&) {
    return StatusOr<CommandResult>(CommandResult{});
  });
  auto delay = kind("network.delay").apply(delay_spec(), FaultContext{"d", "exp", {}});
  ASSERT_TRUE(delay.ok());
  EXPECT_EQ((*delay)->verify_live().status().message(),
            "iptables mangle: no chain " + fault_object_names("d").egress_chain);

  v1::FaultSpec partition;
  partition.mutable_network_partition()->add_cidrs("10.0.0.2");
  auto cut = kind("network.partition").apply(partition, FaultContext{"p", "exp", {}});
  ASSERT_TRUE(cut.ok());
  const auto cut_effect = (*cut)->verify_live();
  EXPECT_EQ(cut_effect.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(cut_effect.status().message().find("nft table inet " + fault_object_names("p").nft_table +
                                                " is not in the ruleset"),
            std::string::npos)
      << cut_effect.status().message();

  v1::FaultSpec bandwidth;
  bandwidth.mutable_network_bandwidth()->set_rate_bits_per_second(8'000'000);
  bandwidth.mutable_network_bandwidth()->mutable_scope()->set_interface("eth1");
  auto shaped = kind("network.bandwidth").apply(bandwidth, FaultContext{"b", "exp", {}});
  ASSERT_TRUE(shaped.ok());
  EXPECT_EQ((*shaped)->verify_live().status().message(), "tc qdisc on eth1: no htb cafe: root");
}

TEST_F(NetworkFaultKindsTest, EngineThatStoppedFailsVerifyLive) {
  make_kinds({});
  auto live = kind("network.delay").apply(delay_spec(), FaultContext{"fault-1", "exp", {}});
  ASSERT_TRUE(live.ok());
  engine_failure_ = "poll: Bad file descriptor";
  const auto effect = (*live)->verify_live();
  EXPECT_EQ(effect.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(effect.status().message().find("has stopped: poll: Bad file descriptor"), std::string::npos);
}

TEST_F(NetworkFaultKindsTest, DropTableCountsMatchedAndDroppedPacketsAndIsGoneAfterRevert) {
  make_kinds({});
  v1::FaultSpec spec;
  spec.mutable_network_partition()->add_cidrs("10.0.0.2");
  auto live = kind("network.partition").apply(spec, FaultContext{"cut", "exp", {}});
  ASSERT_TRUE(live.ok());
  const std::string table = "inet " + fault_object_names("cut").nft_table;
  auto armed = (*live)->verify_live();
  ASSERT_TRUE(armed.ok()) << armed.status().to_string();
  EXPECT_FALSE(armed->impaired);
  EXPECT_NE(armed->evidence.find("nft table " + table + ": egress on postrouting with 1 drop rule(s), ingress"),
            std::string::npos)
      << armed->evidence;
  kernel_.set_table_packets(table, 5);
  auto seen = (*live)->observe();
  ASSERT_TRUE(seen.ok());
  EXPECT_TRUE(seen->impaired);
  EXPECT_EQ(counters_of(*seen),
            (std::map<std::string, std::uint64_t>{{"packets_matched", 10}, {"packets_dropped", 10}}));

  const auto still_there = (*live)->verify_gone();
  EXPECT_EQ(still_there.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(still_there.status().message(), "still there: nft table " + table);
  ASSERT_TRUE((*live)->revert().ok());
  const auto gone = (*live)->verify_gone();
  ASSERT_TRUE(gone.ok()) << gone.status().to_string();
  EXPECT_EQ(*gone, "nft table " + table + " absent");
}

TEST_F(NetworkFaultKindsTest, QdiscFaultIsImpairedOnceItsLeafSendsAndIsGoneAfterRevert) {
  make_kinds(NetworkCapabilities{false, true});
  v1::FaultSpec spec;
  spec.mutable_network_bandwidth()->set_rate_bits_per_second(8'000'000);
  spec.mutable_network_bandwidth()->mutable_scope()->set_interface("eth1");
  auto live = kind("network.bandwidth").apply(spec, FaultContext{"tbf", "exp", {}});
  ASSERT_TRUE(live.ok());
  const auto names = fault_object_names("tbf");
  auto armed = (*live)->verify_live();
  ASSERT_TRUE(armed.ok()) << armed.status().to_string();
  EXPECT_FALSE(armed->impaired);
  EXPECT_NE(armed->evidence.find("1 CLASSIFY cafe:1 rule(s)"), std::string::npos) << armed->evidence;
  EXPECT_NE(armed->evidence.find("tbf " + names.qdisc_leaf_handle + " under cafe:1: 0 packets sent"),
            std::string::npos)
      << armed->evidence;
  kernel_.set_leaf_sent("eth1", 7);
  auto seen = (*live)->observe();
  ASSERT_TRUE(seen.ok());
  EXPECT_TRUE(seen->impaired);

  const auto still_there = (*live)->verify_gone();
  EXPECT_EQ(still_there.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(still_there.status().message(),
            "still there: iptables mangle: chain " + names.egress_chain + ", iptables mangle: jump from POSTROUTING to " +
                names.egress_chain + ", ip6tables mangle: chain " + names.egress_chain +
                ", ip6tables mangle: jump from POSTROUTING to " + names.egress_chain + ", tc qdisc on eth1: leaf " +
                names.qdisc_leaf_handle + " under cafe:1");
  ASSERT_TRUE((*live)->revert().ok());
  const auto gone = (*live)->verify_gone();
  ASSERT_TRUE(gone.ok()) << gone.status().to_string();
  EXPECT_NE(gone->find("no qdisc leaf " + names.qdisc_leaf_handle + " on eth1"), std::string::npos) << *gone;
}

TEST_F(NetworkFaultKindsTest, VerifyRecoveredListsLeftoversUntilRecoveryRemovedThem) {
  make_kinds({});
  leave_everything_of(commands_, kernel_, "old", "eth0");
  const FaultContext context{"old", "exp", {}};
  const auto names = fault_object_names("old");
  const auto left = kind("network.delay").verify_recovered(context, nlohmann::json{{"interface", "eth0"}});
  EXPECT_EQ(left.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(left.status().message().find("nft table inet " + names.nft_table), std::string::npos);
  EXPECT_NE(left.status().message().find("tc qdisc on eth0: leaf " + names.qdisc_leaf_handle), std::string::npos)
      << left.status().message();
  // No record (a crash mid-apply): the leaf is looked for everywhere.
  const auto anywhere = kind("network.delay").verify_recovered(context, nlohmann::json());
  EXPECT_NE(anywhere.status().message().find("tc qdisc on eth0: leaf"), std::string::npos);

  ASSERT_TRUE(kind("network.delay").recover(delay_spec(), context, nlohmann::json()).ok());
  const auto gone = kind("network.delay").verify_recovered(context, nlohmann::json());
  ASSERT_TRUE(gone.ok()) << gone.status().to_string();
  EXPECT_NE(gone->find("no qdisc leaf " + names.qdisc_leaf_handle + " on any interface"), std::string::npos);
}

}  // namespace
}  // namespace chaos::agent::network
