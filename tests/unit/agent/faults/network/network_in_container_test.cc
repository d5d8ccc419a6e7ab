// The network kinds with a container context (FaultContext::container):
// every tool and read-back goes to the container's runner (the one that
// enters its network namespace), never the host's; the engine is told the
// namespace; scopes and mangle baselines are per namespace.
#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <set>

#include "agent/faults/network/network_fault_kinds.h"
#include "agent/faults/network/rules/nft_drop_table.h"
#include "agent/faults/network/rules/object_names.h"
#include "tests/support/fake_command_runner.h"
#include "tests/unit/agent/faults/network/fake_netfilter.h"

namespace chaos::agent::network {
namespace {

using chaos::testing::FakeCommandRunner;

class CountedEngine final : public PacketEngine {
 public:
  CountedEngine(std::uint16_t queue, int* live) : queue_(queue), live_(live) { ++*live_; }
  ~CountedEngine() override { --*live_; }
  std::uint16_t queue_number() const override { return queue_; }
  EngineStats stats() const override { return {}; }

 private:
  std::uint16_t queue_;
  int* live_;
};

// One container: its own runner and kernel model, as the targeting wrapper
// would hand it over.
struct FakeContainer {
  explicit FakeContainer(const std::string& network_namespace, int fd) {
    scope.ref.set_runtime("podman");
    scope.ref.set_name("nats-" + std::to_string(fd));
    scope.ref.set_network_namespace(network_namespace);
    scope.commands = &commands;
    scope.network_namespace_fd = fd;
  }
  FaultContext context(const std::string& fault_id) const {
    FaultContext inside{fault_id, "exp", {}};
    inside.container = &scope;
    return inside;
  }
  FakeCommandRunner commands;
  testing::FakeNetfilter kernel{commands};
  ContainerScope scope;
};

class NetworkInContainerTest : public ::testing::Test {
 protected:
  void make_kinds(NetworkCapabilities capabilities, const std::string& agent_network_namespace = "net:[4026531840]") {
    env_.protected_ports = {9700};
    env_.commands = &host_;
    NetworkFaultOptions options;
    options.agent_network_namespace = agent_network_namespace;
    kinds_ = make_network_fault_kinds(
        env_, capabilities,
        [this](const EngineOptions& engine) {
          started_.push_back(engine);
          return StatusOr<std::unique_ptr<PacketEngine>>(
              std::make_unique<CountedEngine>(engine.queue_number, &live_engines_));
        },
        options);
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

  FakeCommandRunner host_;
  testing::FakeNetfilter host_kernel_{host_};
  FakeContainer container_{"net:[4026532301]", 41};
  AgentEnvironment env_;
  std::vector<std::unique_ptr<FaultKind>> kinds_;
  std::vector<EngineOptions> started_;
  int live_engines_ = 0;
};

TEST_F(NetworkInContainerTest, EveryNetworkKindActsInContainers) {
  make_kinds({});
  for (const auto& k : kinds_) EXPECT_TRUE(k->acts_in_containers()) << k->name();
}

TEST_F(NetworkInContainerTest, EngineFaultRunsEveryToolInTheContainerAndTheEngineEntersItsNamespace) {
  make_kinds({});
  auto live = kind("network.delay").apply(delay_spec(), container_.context("f1"));
  ASSERT_TRUE(live.ok()) << live.status().to_string();
  ASSERT_EQ(started_.size(), 1u);
  EXPECT_EQ(started_[0].network_namespace_fd, 41);
  const auto chain = fault_object_names("f1").egress_chain;
  EXPECT_EQ(container_.kernel.chains(4), (std::set<std::string>{chain}));
  const auto verified = (*live)->verify_live();
  ASSERT_TRUE(verified.ok()) << verified.status().to_string();

  ASSERT_TRUE((*live)->revert().ok());
  EXPECT_EQ(live_engines_, 0);
  ASSERT_TRUE((*live)->verify_gone().ok());
  EXPECT_TRUE(container_.kernel.clean()) << container_.kernel.describe();
  EXPECT_TRUE(container_.kernel.tables().empty()) << "the container's mangle tables are back to its baseline";
  EXPECT_TRUE(host_.calls().empty()) << host_.call_lines().front();
}

TEST_F(NetworkInContainerTest, QdiscAndDropFaultsRunInTheContainerOnly) {
  make_kinds(NetworkCapabilities{true, true});
  v1::FaultSpec shape;
  shape.mutable_network_bandwidth()->set_rate_bits_per_second(8'000'000);
  shape.mutable_network_bandwidth()->mutable_scope()->set_interface("eth1");
  v1::FaultSpec loss;
  loss.mutable_network_loss()->set_percent(10);
  auto shaped = kind("network.bandwidth").apply(shape, container_.context("shaper"));
  auto lossy = kind("network.loss").apply(loss, container_.context("lossy"));
  ASSERT_TRUE(shaped.ok()) << shaped.status().to_string();
  ASSERT_TRUE(lossy.ok()) << lossy.status().to_string();
  EXPECT_EQ(container_.kernel.qdisc_trees().count("eth1"), 1u);
  EXPECT_EQ(container_.kernel.tables().count("inet " + fault_object_names("lossy").nft_table), 1u);
  ASSERT_TRUE((*shaped)->verify_live().ok());
  ASSERT_TRUE((*shaped)->revert().ok());
  ASSERT_TRUE((*lossy)->revert().ok());
  EXPECT_TRUE(container_.kernel.clean()) << container_.kernel.describe();
  EXPECT_TRUE(host_.calls().empty()) << host_.call_lines().front();
}

TEST_F(NetworkInContainerTest, SameScopeOnTheHostAndInTwoContainersDoesNotOverlap) {
  make_kinds({});
  FakeContainer other("net:[4026532999]", 42);
  auto on_host = kind("network.delay").apply(delay_spec(), FaultContext{"host", "exp", {}});
  auto in_first = kind("network.delay").apply(delay_spec(), container_.context("first"));
  auto in_other = kind("network.delay").apply(delay_spec(), other.context("other"));
  ASSERT_TRUE(on_host.ok()) << on_host.status().to_string();
  ASSERT_TRUE(in_first.ok()) << in_first.status().to_string();
  ASSERT_TRUE(in_other.ok()) << in_other.status().to_string();
  auto overlapping = kind("network.delay").apply(delay_spec(), container_.context("again"));
  EXPECT_EQ(overlapping.status().code(), StatusCode::kFailedPrecondition) << "same namespace, same scope";

  ASSERT_TRUE((*in_first)->revert().ok());
  EXPECT_TRUE(container_.kernel.tables().empty()) << "its own namespace's last user restores it";
  EXPECT_EQ(other.kernel.tables(), (std::set<std::string>{"ip mangle", "ip6 mangle"})) << "still steered";
  EXPECT_EQ(host_kernel_.tables(), (std::set<std::string>{"ip mangle", "ip6 mangle"})) << "still steered";
  ASSERT_TRUE((*in_other)->revert().ok());
  ASSERT_TRUE((*on_host)->revert().ok());
  EXPECT_TRUE(other.kernel.tables().empty());
  EXPECT_TRUE(host_kernel_.tables().empty());
}

TEST_F(NetworkInContainerTest, AContainerInTheAgentsOwnNamespaceOverlapsTheHostsFaults) {
  make_kinds({}, "net:[4026532301]");  // container_ is a hostNetwork pod
  auto on_host = kind("network.delay").apply(delay_spec(), FaultContext{"host", "exp", {}});
  ASSERT_TRUE(on_host.ok()) << on_host.status().to_string();
  auto in_host_network = kind("network.delay").apply(delay_spec(), container_.context("pod"));
  EXPECT_EQ(in_host_network.status().code(), StatusCode::kFailedPrecondition)
      << "the same packets: a second engine would treat the first's as its own";
  EXPECT_NE(in_host_network.status().message().find("host"), std::string::npos) << in_host_network.status().message();
  ASSERT_TRUE((*on_host)->revert().ok());
  auto alone = kind("network.delay").apply(delay_spec(), container_.context("pod"));
  ASSERT_TRUE(alone.ok()) << alone.status().to_string();
  ASSERT_TRUE((*alone)->revert().ok());
}

TEST_F(NetworkInContainerTest, RecoveryAndItsCheckActInTheContainer) {
  make_kinds({});
  const auto names = fault_object_names("old");
  TrafficScope scope;
  ASSERT_TRUE(install_drop_table(container_.commands, DropTablePlan{names.nft_table, scope, {}, 1}).ok());
  container_.kernel.add_qdisc_tree("eth0", names.qdisc_leaf_handle);
  const auto context = container_.context("old");
  const auto left = kind("network.delay").verify_recovered(context, nlohmann::json());
  EXPECT_EQ(left.status().code(), StatusCode::kFailedPrecondition);

  ASSERT_TRUE(kind("network.delay").recover(delay_spec(), context, nlohmann::json()).ok());
  EXPECT_TRUE(container_.kernel.clean()) << container_.kernel.describe();
  ASSERT_TRUE(kind("network.delay").verify_recovered(context, nlohmann::json()).ok());
  container_.kernel.add_qdisc_tree("eth1", names.qdisc_leaf_handle);
  ASSERT_TRUE(kind("network.delay").recover_by_id(context).ok());
  EXPECT_TRUE(container_.kernel.clean()) << container_.kernel.describe();
  EXPECT_TRUE(host_.calls().empty()) << host_.call_lines().front();
}

TEST_F(NetworkInContainerTest, RestartedAgentRestoresTheContainersMangleTablesFromItsOwnBaseline) {
  namespace fs = std::filesystem;
  const fs::path state_dir = fs::temp_directory_path() / ("chaos-netns-unit-" + std::to_string(getpid()));
  fs::remove_all(state_dir);
  env_.state_dir = state_dir.string();
  // The host had a mangle table of its own; the container had none.
  host_kernel_.add_table("ip mangle");
  make_kinds({});
  {
    auto live = kind("network.delay").apply(delay_spec(), container_.context("crashed"));
    ASSERT_TRUE(live.ok()) << live.status().to_string();
    EXPECT_TRUE(fs::exists(state_dir / "network" / "mangle-baseline-net-4026532301.json"));
    // The agent dies with the fault live: its chains stay (a removal that
    // fails leaves what a crash leaves), and so do the baseline and tables.
    container_.kernel.fail_commands_containing("-X " + fault_object_names("crashed").egress_chain);
    live->reset();
    kinds_.clear();
    container_.kernel.clear_failures();
  }
  ASSERT_FALSE(container_.kernel.clean());
  ASSERT_EQ(container_.kernel.tables(), (std::set<std::string>{"ip mangle", "ip6 mangle"}));
  make_kinds({});  // the restarted agent
  ASSERT_TRUE(kind("network.delay").recover(delay_spec(), container_.context("crashed"), nlohmann::json()).ok());
  EXPECT_TRUE(container_.kernel.clean()) << container_.kernel.describe();
  EXPECT_TRUE(container_.kernel.tables().empty()) << "restored from the container's baseline on disk";
  EXPECT_FALSE(fs::exists(state_dir / "network" / "mangle-baseline-net-4026532301.json"));
  EXPECT_EQ(host_kernel_.tables(), (std::set<std::string>{"ip mangle"}));
  EXPECT_TRUE(host_.calls().empty()) << host_.call_lines().front();
  fs::remove_all(state_dir);
}

}  // namespace
}  // namespace chaos::agent::network
