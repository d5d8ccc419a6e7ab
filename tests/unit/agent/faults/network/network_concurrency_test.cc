// Different faults apply, revert and recover at the same time on different
// threads (the registry does not serialise them): a fault whose command
// hangs until its timeout must not hold up another fault's revert. Real
// threads, the kernel model, and a gate that holds one fault's command
// until the test opens it. The deadlines only turn a hang into a failure.
#include <gtest/gtest.h>

#include <algorithm>
#include <future>
#include <set>

#include "agent/faults/network/network_fault_kinds.h"
#include "agent/faults/network/rules/object_names.h"
#include "tests/support/fake_command_runner.h"
#include "tests/unit/agent/faults/network/fake_netfilter.h"

namespace chaos::agent::network {
namespace {

using chaos::testing::FakeCommandRunner;
using namespace std::chrono_literals;

constexpr auto kDeadline = 30s;

class QuietEngine final : public PacketEngine {
 public:
  explicit QuietEngine(std::uint16_t queue) : queue_(queue) {}
  std::uint16_t queue_number() const override { return queue_; }
  EngineStats stats() const override { return {}; }

 private:
  std::uint16_t queue_;
};

class NetworkConcurrencyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    env_.protected_ports = {9700};
    env_.commands = &commands_;
    env_.clock = &clock_;
    // tbf but no netem: delay runs on the (fake) engine, bandwidth on a qdisc.
    kinds_ = make_network_fault_kinds(env_, NetworkCapabilities{false, true}, [](const EngineOptions& options) {
      return StatusOr<std::unique_ptr<PacketEngine>>(std::make_unique<QuietEngine>(options.queue_number));
    });
  }
  // Whatever an assertion left hanging finishes before anything it uses goes.
  void TearDown() override {
    kernel_.open_gate();
    for (auto& task : background_) task.wait();
  }

  FaultKind& kind(const std::string& name) {
    auto it = std::find_if(kinds_.begin(), kinds_.end(), [&](const auto& k) { return k->name() == name; });
    if (it == kinds_.end()) throw std::runtime_error("no kind " + name);
    return **it;
  }

  LiveFault* apply(const std::string& kind_name, const v1::FaultSpec& spec, const std::string& id) {
    auto live = kind(kind_name).apply(spec, FaultContext{id, "exp", {}});
    EXPECT_TRUE(live.ok()) << id << ": " << live.status().to_string();
    if (!live.ok()) return nullptr;
    std::lock_guard lock(live_mutex_);
    live_.push_back(std::move(live).value());
    return live_.back().get();
  }

  // Runs `work` on another thread; its result is the returned future's.
  std::shared_future<bool> in_background(std::function<bool()> work) {
    auto task = std::async(std::launch::async, std::move(work)).share();
    background_.push_back(task);
    return task;
  }

  static v1::FaultSpec delay_spec(const std::string& interface) {
    v1::FaultSpec spec;
    spec.mutable_network_delay()->mutable_delay()->set_nanos(10'000'000);
    spec.mutable_network_delay()->mutable_scope()->set_interface(interface);
    return spec;
  }
  static v1::FaultSpec partition_spec() {
    v1::FaultSpec spec;
    spec.mutable_network_partition()->add_cidrs("10.0.0.2");
    return spec;
  }
  static v1::FaultSpec bandwidth_spec(const std::string& interface) {
    v1::FaultSpec spec;
    spec.mutable_network_bandwidth()->set_rate_bits_per_second(8'000'000);
    spec.mutable_network_bandwidth()->mutable_scope()->set_interface(interface);
    return spec;
  }

  FakeCommandRunner commands_;
  testing::FakeNetfilter kernel_{commands_};
  FakeClock clock_;
  AgentEnvironment env_;
  std::vector<std::unique_ptr<FaultKind>> kinds_;
  std::mutex live_mutex_;
  std::vector<std::unique_ptr<LiveFault>> live_;
  std::vector<std::shared_future<bool>> background_;  // last: waited for first
};

TEST_F(NetworkConcurrencyTest, RevertsCompleteWhileAnotherFaultsApplyHangsInItsCommand) {
  LiveFault* delay = apply("network.delay", delay_spec("eth1"), "b-delay");
  LiveFault* partition = apply("network.partition", partition_spec(), "c-partition");
  LiveFault* shaper = apply("network.bandwidth", bandwidth_spec("eth2"), "d-shaper");
  ASSERT_TRUE(delay && partition && shaper);

  // a's steering batch hangs, as an iptables-restore stuck until its timeout.
  kernel_.close_gate(fault_object_names("a-hanging").egress_chain);
  auto hanging = in_background([this] { return apply("network.delay", delay_spec("eth0"), "a-hanging") != nullptr; });
  ASSERT_TRUE(kernel_.wait_until_gate_holds_a_command(kDeadline));

  auto reverts = in_background([delay, partition, shaper] {
    return delay->revert().ok() && partition->revert().ok() && shaper->revert().ok();
  });
  ASSERT_EQ(reverts.wait_for(kDeadline), std::future_status::ready) << "a revert waited for another fault's command";
  EXPECT_TRUE(reverts.get());
  EXPECT_TRUE(kernel_.chains(4).empty()) << kernel_.describe();
  EXPECT_TRUE(kernel_.qdisc_trees().empty()) << kernel_.describe();
  EXPECT_EQ(kernel_.tables(), (std::set<std::string>{"ip mangle", "ip6 mangle"})) << "a still uses them";
  EXPECT_EQ(hanging.wait_for(0s), std::future_status::timeout) << "still hanging";

  kernel_.open_gate();
  ASSERT_TRUE(hanging.get());
  std::lock_guard lock(live_mutex_);
  ASSERT_TRUE(live_.back()->revert().ok());
  EXPECT_TRUE(kernel_.clean()) << kernel_.describe();
  EXPECT_TRUE(kernel_.tables().empty()) << kernel_.describe();
}

TEST_F(NetworkConcurrencyTest, OthersApplyRevertAndRecoverWhileARevertHangsInItsCommand) {
  LiveFault* stuck = apply("network.delay", delay_spec("eth0"), "a-stuck");
  ASSERT_NE(stuck, nullptr);
  // a's removal batch hangs.
  kernel_.close_gate("-X " + fault_object_names("a-stuck").egress_chain);
  auto hanging = in_background([stuck] { return stuck->revert().ok(); });
  ASSERT_TRUE(kernel_.wait_until_gate_holds_a_command(kDeadline));

  auto others = in_background([this] {
    LiveFault* delay = apply("network.delay", delay_spec("eth1"), "b-delay");
    LiveFault* partition = apply("network.partition", partition_spec(), "c-partition");
    LiveFault* shaper = apply("network.bandwidth", bandwidth_spec("eth2"), "d-shaper");
    return delay && partition && shaper && delay->revert().ok() && partition->revert().ok() &&
           shaper->revert().ok() && kind("network.delay").recover_by_id(FaultContext{"e-crashed", "", {}}).ok();
  });
  ASSERT_EQ(others.wait_for(kDeadline), std::future_status::ready) << "waited for another fault's revert";
  EXPECT_TRUE(others.get());
  EXPECT_EQ(kernel_.chains(4), (std::set<std::string>{fault_object_names("a-stuck").egress_chain}));

  kernel_.open_gate();
  EXPECT_TRUE(hanging.get());
  EXPECT_TRUE(kernel_.clean()) << kernel_.describe();
  EXPECT_TRUE(kernel_.tables().empty()) << kernel_.describe();
}

// The one lock held across commands (the mangle keeper's, while the first
// steering fault reads the baseline) is not needed by any other kind.
TEST_F(NetworkConcurrencyTest, FirstSteeringFaultReadingTheBaselineHoldsUpNoRevert) {
  LiveFault* partition = apply("network.partition", partition_spec(), "c-partition");
  ASSERT_NE(partition, nullptr);
  kernel_.close_gate("nft -j list table ip mangle");
  auto hanging = in_background([this] { return apply("network.delay", delay_spec("eth0"), "a-first") != nullptr; });
  ASSERT_TRUE(kernel_.wait_until_gate_holds_a_command(kDeadline));

  auto revert = in_background([partition] { return partition->revert().ok(); });
  ASSERT_EQ(revert.wait_for(kDeadline), std::future_status::ready);
  EXPECT_TRUE(revert.get());

  kernel_.open_gate();
  ASSERT_TRUE(hanging.get());
  std::lock_guard lock(live_mutex_);
  ASSERT_TRUE(live_.back()->revert().ok());
  EXPECT_TRUE(kernel_.clean()) << kernel_.describe();
}

}  // namespace
}  // namespace chaos::agent::network
