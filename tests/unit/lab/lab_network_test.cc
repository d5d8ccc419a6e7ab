#include "lab/lab_network.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>

#include "tests/support/fake_command_runner.h"
#include "tests/support/temp_dir.h"

namespace chaos::lab {
namespace {

TEST(LabNetworkTest, FindsOnlyThisLabsNamespacesAndLinks) {
  const std::string netns = "chaoslab-n1 (id: 0)\nclb-n1 (id: 3)\nchaoslab-n12\nchaoslab-nx\nmy-chaoslab-n1\n";
  EXPECT_EQ(lab_namespaces_in(netns, "chaoslab"), (std::vector<std::string>{"chaoslab-n1", "chaoslab-n12"}));
  EXPECT_EQ(lab_namespaces_in(netns, "clb"), (std::vector<std::string>{"clb-n1"}));
  const std::string links =
      "lo UNKNOWN 00:00\nchaoslab0 UP 1\nchaoslab-v1@if2 UP\nclb0 UP\nchaoslab00 UP\neth0 UP\nchaoslab-vx UP\n";
  EXPECT_EQ(lab_links_in(links, "chaoslab"), (std::vector<std::string>{"chaoslab0", "chaoslab-v1"}));
  EXPECT_TRUE(lab_links_in("", "chaoslab").empty());
}

TEST(LabNetworkTest, CreateBuildsBridgeThenEachNode) {
  testing::FakeCommandRunner runner;
  LabParams params;
  params.nodes = 1;
  params.netns_etc_root = test_support::process_scratch_dir() + "/netns-etc";
  auto layout = *LabLayout::create(params);
  LabNetwork network(layout, runner);
  ASSERT_TRUE(network.create().ok());
  EXPECT_TRUE(std::filesystem::exists(params.netns_etc_root + "/chaoslab-n1/resolv.conf"));
  const auto lines = runner.call_lines();
  ASSERT_GE(lines.size(), 7u);
  EXPECT_EQ(lines[0], "ip link add chaoslab0 type bridge");
  EXPECT_EQ(lines[1], "ip addr add 10.77.0.1/24 dev chaoslab0");
  EXPECT_EQ(lines[3], "ip netns add chaoslab-n1");
  EXPECT_EQ(lines[4], "ip link add chaoslab-v1 type veth peer name eth0 netns chaoslab-n1");
}

TEST(LabNetworkTest, CreateStopsAtTheFirstFailure) {
  testing::FakeCommandRunner runner;
  runner.fail_on("type bridge", "RTNETLINK answers: File exists");
  auto layout = *LabLayout::create(LabParams{});
  LabNetwork network(layout, runner);
  const Status status = network.create();
  EXPECT_FALSE(status.ok());
  EXPECT_NE(status.message().find("File exists"), std::string::npos);
  EXPECT_EQ(runner.calls().size(), 1u);
}

TEST(LabNetworkTest, DestroyDeletesWhatExistsAndToleratesVanishedLinks) {
  testing::FakeCommandRunner runner;
  runner.on("netns list", [](const std::vector<std::string>&) -> StatusOr<CommandResult> {
    return CommandResult{0, "chaoslab-n1\nchaoslab-n2\nother-n1\n", ""};
  });
  runner.on("-br link", [](const std::vector<std::string>&) -> StatusOr<CommandResult> {
    return CommandResult{0, "chaoslab0 UP\nchaoslab-v2@if3 DOWN\n", ""};
  });
  runner.on("link del chaoslab-v2", [](const std::vector<std::string>&) -> StatusOr<CommandResult> {
    return CommandResult{1, "", "Cannot find device \"chaoslab-v2\""};
  });
  LabParams params;
  params.netns_etc_root = test_support::process_scratch_dir() + "/netns-etc-destroy";
  auto layout = *LabLayout::create(params);
  LabNetwork network(layout, runner);
  EXPECT_TRUE(network.destroy().ok());
  const auto lines = runner.call_lines();
  EXPECT_NE(std::find(lines.begin(), lines.end(), "ip netns del chaoslab-n1"), lines.end());
  EXPECT_NE(std::find(lines.begin(), lines.end(), "ip netns del chaoslab-n2"), lines.end());
  EXPECT_EQ(std::find(lines.begin(), lines.end(), "ip netns del other-n1"), lines.end());
  EXPECT_NE(std::find(lines.begin(), lines.end(), "ip link del chaoslab0"), lines.end());
}

TEST(LabNetworkTest, DestroyReportsRealFailures) {
  testing::FakeCommandRunner runner;
  runner.on("netns list", [](const std::vector<std::string>&) -> StatusOr<CommandResult> {
    return CommandResult{0, "chaoslab-n1\n", ""};
  });
  runner.fail_on("netns del", "Operation not permitted");
  LabParams params;
  params.netns_etc_root = test_support::process_scratch_dir() + "/netns-etc-fail";
  auto layout = *LabLayout::create(params);
  LabNetwork network(layout, runner);
  const Status status = network.destroy();
  EXPECT_FALSE(status.ok());
  EXPECT_NE(status.message().find("not permitted"), std::string::npos);
}

}  // namespace
}  // namespace chaos::lab
