#include "agent/faults/network/backend_probe.h"

#include <gtest/gtest.h>

#include "tests/support/fake_command_runner.h"

namespace chaos::agent::network {
namespace {

using chaos::testing::FakeCommandRunner;

TEST(BackendProbeTest, KernelWithoutNetemGetsTheNfqueueEngine) {
  FakeCommandRunner commands;
  commands.fail_on("netem", "Error: Specified qdisc kind is unknown.");
  const auto capabilities = probe_network_capabilities(commands, "chaos-probe-1");
  EXPECT_FALSE(capabilities.netem);
  EXPECT_TRUE(capabilities.tbf);
  EXPECT_EQ(capabilities.backend(), "nfqueue");
}

TEST(BackendProbeTest, KernelWithNetemGetsNetemAndTheProbeTouchesOnlyItsOwnNamespace) {
  FakeCommandRunner commands;
  const auto capabilities = probe_network_capabilities(commands, "chaos-probe-1");
  EXPECT_EQ(capabilities.backend(), "netem");
  for (const auto& argv : commands.calls()) {
    const auto line = describe_argv(argv);
    EXPECT_NE(line.find("chaos-probe-1"), std::string::npos) << line;
  }
  EXPECT_EQ(commands.call_lines().back(), "ip netns del chaos-probe-1");
}

TEST(BackendProbeTest, NoNamespaceSupportMeansNothingIsProbed) {
  FakeCommandRunner commands;
  commands.fail_on("netns add", "permission denied");
  const auto capabilities = probe_network_capabilities(commands, "chaos-probe-1");
  EXPECT_FALSE(capabilities.netem);
  EXPECT_FALSE(capabilities.tbf);
  EXPECT_EQ(commands.calls().size(), 2u);  // stale cleanup + the failed add
}

}  // namespace
}  // namespace chaos::agent::network
