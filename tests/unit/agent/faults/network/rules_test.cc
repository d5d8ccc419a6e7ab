// Argv and ruleset text of the kernel objects a network fault owns.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>
#include <sstream>

#include "agent/faults/network/rules/iptables_steering.h"
#include "agent/faults/network/rules/nft_drop_table.h"
#include "agent/faults/network/rules/object_names.h"
#include "agent/faults/network/rules/qdisc_tree.h"
#include "common/command_runner.h"
#include "tests/support/fake_command_runner.h"
#include "tests/unit/agent/faults/network/fake_netfilter.h"

namespace chaos::agent::network {
namespace {

using chaos::testing::FakeCommandRunner;

TrafficScope egress_scope() {
  TrafficScope scope;
  scope.interface = "eth0";
  scope.peers.push_back(*parse_cidr("10.0.0.2"));
  return scope;
}

SteeringPlan queue_plan(TrafficScope scope) {
  return SteeringPlan{"CHAOS-t-O", "CHAOS-t-I", std::move(scope), {9700, 9701},
                      SteeringTarget{SteeringTarget::Kind::kQueue, 31200, ""}};
}

TEST(ObjectNamesTest, NamesAreStableShortAndDistinctPerFault) {
  const auto names = fault_object_names("0f0e7a7c-9d0b-4a57-8f4e-3f2a9b1c0d11");
  EXPECT_EQ(names.egress_chain, fault_object_names("0f0e7a7c-9d0b-4a57-8f4e-3f2a9b1c0d11").egress_chain);
  EXPECT_LE(names.egress_chain.size(), 28u);  // iptables' limit
  EXPECT_EQ(names.egress_chain.rfind("CHAOS-", 0), 0u);
  EXPECT_EQ(names.nft_table.rfind("chaos_", 0), 0u);
  EXPECT_NE(names.nft_table, fault_object_names("another").nft_table);
  // Hostile ids never reach a command line verbatim.
  EXPECT_EQ(fault_object_names("x; rm -rf / $(reboot)").nft_table.find(' '), std::string::npos);
}

// Every line of a family's batch, for readable assertions.
std::vector<std::string> batch_lines(const std::vector<RestoreBatch>& batches, int version) {
  std::vector<std::string> lines;
  for (const auto& batch : batches) {
    if (batch.version != version) continue;
    std::istringstream text(batch.text);
    for (std::string line; std::getline(text, line);) lines.push_back(line);
  }
  return lines;
}

bool contains(const std::vector<std::string>& lines, const std::string& line) {
  return std::find(lines.begin(), lines.end(), line) != lines.end();
}

TEST(IptablesSteeringTest, OneBatchPerFamilyWithExemptionsFirstAndTheJumpLast) {
  const auto batches = steering_install_batches(queue_plan(egress_scope()));
  ASSERT_EQ(batches.size(), 1u) << "an IPv4 peer: no IPv6 batch";
  EXPECT_EQ(batches[0].version, 4);
  EXPECT_EQ(batches[0].text,
            "*mangle\n"
            ":CHAOS-t-O - [0:0]\n"
            "-A CHAOS-t-O -p tcp -m multiport --ports 9700,9701 -j RETURN\n"
            "-A CHAOS-t-O -p udp -m multiport --ports 9700,9701 -j RETURN\n"
            "-A CHAOS-t-O -m mark --mark 1128808787 -j RETURN\n"
            "-A CHAOS-t-O -o eth0 -d 10.0.0.2/32 -j NFQUEUE --queue-num 31200 --queue-bypass\n"
            "-A POSTROUTING -j CHAOS-t-O\n"
            "COMMIT\n");
}

TEST(IptablesSteeringTest, IngressUsesPreroutingAndSwapsAddressRoles) {
  auto scope = egress_scope();
  scope.egress = false;
  scope.ingress = true;
  scope.local_addresses.push_back(*parse_cidr("10.0.0.1"));
  const auto lines = batch_lines(steering_install_batches(queue_plan(scope)), 4);
  EXPECT_TRUE(contains(lines, "-A CHAOS-t-I -i eth0 -s 10.0.0.2/32 -d 10.0.0.1/32 -j NFQUEUE --queue-num 31200 "
                              "--queue-bypass"));
  ASSERT_GE(lines.size(), 2u);
  EXPECT_EQ(lines[lines.size() - 2], "-A PREROUTING -j CHAOS-t-I");
}

TEST(IptablesSteeringTest, PortsWithoutProtocolCoverTcpAndUdpAndChunkAtFifteen) {
  TrafficScope scope;  // every interface but loopback
  for (std::uint16_t port = 1; port <= 16; ++port) scope.ports.push_back(port);
  auto plan = queue_plan(scope);
  plan.protected_ports = {};
  plan.target = SteeringTarget{SteeringTarget::Kind::kClassify, 0, "cafe:1"};
  const auto batches = steering_install_batches(plan);
  const auto lines = batch_lines(batches, 4);
  const std::vector<std::string> expected = {
      "-A CHAOS-t-O ! -o lo -p tcp -m multiport --ports 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15 -j CLASSIFY "
      "--set-class cafe:1",
      "-A CHAOS-t-O ! -o lo -p tcp -m multiport --ports 16 -j CLASSIFY --set-class cafe:1",
      "-A CHAOS-t-O ! -o lo -p udp -m multiport --ports 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15 -j CLASSIFY "
      "--set-class cafe:1",
      "-A CHAOS-t-O ! -o lo -p udp -m multiport --ports 16 -j CLASSIFY --set-class cafe:1",
  };
  for (const auto& line : expected) EXPECT_TRUE(contains(lines, line)) << line;
  // The engine's re-sent packets are classified like the originals were.
  for (const auto& batch : batches) EXPECT_EQ(batch.text.find("--mark"), std::string::npos);
  // Classification never ends the table, so its jump goes first.
  const auto v6 = batch_lines(batches, 6);
  ASSERT_GE(v6.size(), 2u);
  EXPECT_EQ(v6[v6.size() - 2], "-I POSTROUTING 1 -j CHAOS-t-O");
}

TEST(IptablesSteeringTest, EachAddressFamilyGetsItsOwnBatch) {
  TrafficScope any_address;
  any_address.protocol = Protocol::kIcmp;
  auto batches = steering_install_batches(queue_plan(any_address));
  ASSERT_EQ(batches.size(), 2u);
  EXPECT_TRUE(contains(batch_lines(batches, 6),
                       "-A CHAOS-t-O ! -o lo -p ipv6-icmp -j NFQUEUE --queue-num 31200 --queue-bypass"));
  EXPECT_TRUE(contains(batch_lines(batches, 4), "-A CHAOS-t-O ! -o lo -p icmp -j NFQUEUE --queue-num 31200 "
                                                "--queue-bypass"));

  TrafficScope v6_peer;
  v6_peer.peers.push_back(*parse_cidr("fd00::2"));
  batches = steering_install_batches(queue_plan(v6_peer));
  ASSERT_EQ(batches.size(), 1u);
  EXPECT_EQ(batches[0].version, 6);

  TrafficScope mixed = v6_peer;
  mixed.peers.push_back(*parse_cidr("10.0.0.2"));
  batches = steering_install_batches(queue_plan(mixed));
  EXPECT_TRUE(contains(batch_lines(batches, 4),
                       "-A CHAOS-t-O ! -o lo -d 10.0.0.2/32 -j NFQUEUE --queue-num 31200 --queue-bypass"));
  EXPECT_TRUE(contains(batch_lines(batches, 6),
                       "-A CHAOS-t-O ! -o lo -d fd00::2/128 -j NFQUEUE --queue-num 31200 --queue-bypass"));
}

TEST(IptablesSteeringTest, InstallRunsOneRestorePerFamilyAndRemovalOneSaveAndRestorePerFamily) {
  FakeCommandRunner commands;
  testing::FakeNetfilter kernel(commands);
  TrafficScope any_address;
  any_address.interface = "eth0";
  ASSERT_TRUE(install_steering(commands, queue_plan(any_address)).ok());
  EXPECT_EQ(commands.call_lines(), (std::vector<std::string>{"iptables-restore -w 5 --noflush",
                                                             "ip6tables-restore -w 5 --noflush"}));
  EXPECT_EQ(kernel.chains(4), (std::set<std::string>{"CHAOS-t-O"}));
  EXPECT_EQ(kernel.chains(6), (std::set<std::string>{"CHAOS-t-O"}));
  EXPECT_EQ(kernel.rules(4, "POSTROUTING"), (std::vector<std::string>{"-j CHAOS-t-O"}));

  commands.clear();
  ASSERT_TRUE(remove_steering(commands, "CHAOS-t-O", "CHAOS-t-I").ok());
  EXPECT_EQ(commands.call_lines(),
            (std::vector<std::string>{"iptables-save -t mangle", "iptables-restore -w 5 --noflush",
                                      "ip6tables-save -t mangle", "ip6tables-restore -w 5 --noflush"}));
  EXPECT_TRUE(kernel.clean()) << kernel.describe();
  commands.clear();
  ASSERT_TRUE(remove_steering(commands, "CHAOS-t-O", "CHAOS-t-I").ok()) << "idempotent";
  EXPECT_EQ(commands.call_lines(), (std::vector<std::string>{"iptables-save -t mangle", "ip6tables-save -t mangle"}));
}

TEST(IptablesSteeringTest, FailedSecondFamilyRemovesTheFirstAndTheFailedBatchLeavesNothing) {
  FakeCommandRunner commands;
  testing::FakeNetfilter kernel(commands);
  kernel.fail_commands_containing("ip6tables-restore");
  TrafficScope any_address;
  const auto status = install_steering(commands, queue_plan(any_address));
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find("Operation not permitted"), std::string::npos) << status.message();
  EXPECT_TRUE(kernel.clean()) << kernel.describe();
  EXPECT_TRUE(kernel.chains(4).empty());
}

TEST(IptablesSteeringTest, RemovalDeletesEveryJumpIntoOurChainsAndNothingElse) {
  const std::string saved =
      "# Generated by iptables-save\n*mangle\n:PREROUTING ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n"
      ":CHAOS-t-O - [0:0]\n:HOST - [0:0]\n"
      "-A POSTROUTING -j CHAOS-t-O\n-A POSTROUTING -o eth1 -j HOST\n-A POSTROUTING -j CHAOS-t-O\n"
      "-A HOST -j CHAOS-t-O\n-A CHAOS-t-O -j RETURN\nCOMMIT\n";
  EXPECT_EQ(steering_removal_batch(saved, {"CHAOS-t-O", "CHAOS-t-I"}),
            "*mangle\n-D POSTROUTING -j CHAOS-t-O\n-D POSTROUTING -j CHAOS-t-O\n-D HOST -j CHAOS-t-O\n"
            "-F CHAOS-t-O\n-X CHAOS-t-O\nCOMMIT\n");
  EXPECT_EQ(steering_removal_batch(saved, {"CHAOS-x-O", "CHAOS-x-I"}), "") << "nothing of this fault";
}

TEST(IptablesSteeringTest, RemovalFailsWhenTheChainSurvives) {
  FakeCommandRunner commands;
  testing::FakeNetfilter kernel(commands);
  ASSERT_TRUE(install_steering(commands, queue_plan(egress_scope())).ok());
  kernel.fail_commands_containing("-X CHAOS-t-O");
  EXPECT_EQ(remove_steering(commands, "CHAOS-t-O", "CHAOS-t-I").code(), StatusCode::kInternal);
  EXPECT_EQ(kernel.chains(4), (std::set<std::string>{"CHAOS-t-O"})) << "a failed batch changes nothing";
  kernel.clear_failures();
  EXPECT_TRUE(remove_steering(commands, "CHAOS-t-O", "CHAOS-t-I").ok());
  EXPECT_TRUE(kernel.clean()) << kernel.describe();
}

TEST(NftDropTableTest, ProtectedPortsAreAcceptedBeforeAnyDrop) {
  auto scope = egress_scope();
  scope.ingress = true;
  const auto text = drop_table_ruleset(DropTablePlan{"chaos_t", scope, {9700}, 1'000'000});
  EXPECT_EQ(text,
            "table inet chaos_t {\n"
            "  chain egress {\n"
            "    type filter hook postrouting priority -150; policy accept;\n"
            "    meta l4proto { tcp, udp } th sport { 9700 } accept\n"
            "    meta l4proto { tcp, udp } th dport { 9700 } accept\n"
            "    oifname \"eth0\" ip daddr { 10.0.0.2/32 } counter drop\n"
            "  }\n"
            "  chain ingress {\n"
            "    type filter hook prerouting priority -150; policy accept;\n"
            "    meta l4proto { tcp, udp } th sport { 9700 } accept\n"
            "    meta l4proto { tcp, udp } th dport { 9700 } accept\n"
            "    iifname \"eth0\" ip saddr { 10.0.0.2/32 } counter drop\n"
            "  }\n"
            "}\n");
}

TEST(NftDropTableTest, PartialLossUsesNumgenAndSplitsAddressFamilies) {
  TrafficScope scope;
  scope.peers = {*parse_cidr("10.0.0.0/8"), *parse_cidr("fd00::/8")};
  scope.protocol = Protocol::kUdp;
  scope.ports = {53};
  const auto text = drop_table_ruleset(DropTablePlan{"chaos_t", scope, {}, 125'000});
  EXPECT_NE(text.find("oifname != \"lo\" ip daddr { 10.0.0.0/8 } meta l4proto udp th sport { 53 } counter numgen "
                      "random mod 1000000 < 125000 counter drop"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("ip6 daddr { fd00::/8 } meta l4proto udp th dport { 53 }"), std::string::npos) << text;
  EXPECT_EQ(text.find("chain ingress"), std::string::npos);
}

TEST(NftDropTableTest, InstallIsOneTransactionAndRemovalIsIdempotent) {
  FakeCommandRunner commands;
  testing::FakeNetfilter kernel(commands);
  ASSERT_TRUE(install_drop_table(commands, DropTablePlan{"chaos_t", egress_scope(), {}, 1'000'000}).ok());
  EXPECT_EQ(commands.call_lines(), (std::vector<std::string>{"nft -f -"}));
  EXPECT_EQ(commands.stdin_texts()[0].rfind("add table inet chaos_t\ndelete table inet chaos_t\ntable inet chaos_t {",
                                            0),
            0u)
      << commands.stdin_texts()[0];
  EXPECT_EQ(kernel.tables(), (std::set<std::string>{"inet chaos_t"}));

  commands.clear();
  EXPECT_TRUE(remove_drop_table(commands, "chaos_t").ok());
  EXPECT_TRUE(remove_drop_table(commands, "chaos_t").ok());
  EXPECT_EQ(commands.call_lines(), (std::vector<std::string>(2, "nft -f -")));
  EXPECT_TRUE(kernel.tables().empty());
  kernel.fail_commands_containing("delete table inet chaos_t");
  EXPECT_FALSE(remove_drop_table(commands, "chaos_t").ok()) << "a refusal is reported, not taken for absence";
}

TEST(QdiscTreeTest, NetemLeafCarriesEveryImpairment) {
  ImpairmentSpec spec;
  spec.delay = std::chrono::milliseconds(50);
  spec.jitter = std::chrono::milliseconds(5);
  spec.delay_correlation = 0.25;
  spec.distribution = JitterDistribution::kNormal;
  spec.loss_probability = 0.1;
  spec.duplicate_probability = 0.01;
  spec.immediate_probability = 0.2;
  spec.rate_bits_per_second = 1'000'000;
  EXPECT_EQ(describe_argv(netem_leaf(spec, 10000)),
            "netem limit 10000 delay 50000us 5000us 25.000000% distribution normal loss random 10.000000% "
            "duplicate 1.000000% reorder 20.000000% rate 1000000bit");
}

TEST(QdiscTreeTest, NetemLeafUsesGemodelForBurstLoss) {
  ImpairmentSpec spec;
  spec.burst_loss = GilbertElliott{0.01, 0.3, 1.0, 0.0};
  EXPECT_EQ(describe_argv(netem_leaf(spec, 1000)),
            "netem limit 1000 loss gemodel 1.000000% 30.000000% 100.000000% 0.000000%");
}

TEST(QdiscTreeTest, TbfLeafChoosesABurstFromTheRate) {
  EXPECT_EQ(describe_argv(tbf_leaf(8'000'000, 0, {})), "tbf rate 8000000bit burst 10000 latency 50000us");
  EXPECT_EQ(describe_argv(tbf_leaf(8'000, 0, std::chrono::milliseconds(20))),
            "tbf rate 8000bit burst 3028 latency 20000us");
}

TEST(QdiscTreeTest, InstallBuildsTheTreeOnADefaultRootInOneBatch) {
  FakeCommandRunner commands;
  testing::FakeNetfilter kernel(commands);
  ASSERT_TRUE(install_qdisc_tree(commands, "eth0", "1a2b:", tbf_leaf(8'000'000, 0, {})).ok());
  EXPECT_EQ(commands.call_lines(), (std::vector<std::string>{"tc qdisc show dev eth0 root", "tc -batch -"}));
  EXPECT_EQ(commands.stdin_texts()[1],
            "qdisc add dev eth0 root handle cafe: htb default 0\n"
            "class add dev eth0 parent cafe: classid cafe:1 htb rate 100gbit\n"
            "qdisc add dev eth0 parent cafe:1 handle 1a2b: tbf rate 8000000bit burst 10000 latency 50000us\n");
  EXPECT_EQ(kernel.qdisc_trees(), (std::map<std::string, std::string>{{"eth0", "1a2b:"}}));
}

TEST(QdiscTreeTest, InstallRefusesToReplaceAConfiguredRootQdisc) {
  FakeCommandRunner commands;
  commands.on("qdisc show", [](const auto&) -> StatusOr<CommandResult> {
    return CommandResult{0, "qdisc fq_codel 8001: root refcnt 2 limit 10240p\n", ""};
  });
  const auto status = install_qdisc_tree(commands, "eth0", "1a2b:", tbf_leaf(8'000'000, 0, {}));
  EXPECT_EQ(status.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(status.message().find("fq_codel 8001:"), std::string::npos);
  EXPECT_EQ(commands.calls().size(), 1u);  // nothing was changed
}

TEST(QdiscTreeTest, BatchFailingPartWayIsRemoved) {
  FakeCommandRunner commands;
  testing::FakeNetfilter kernel(commands);
  // tc applies the lines before the failing one; our rollback takes them away.
  kernel.fail_commands_containing("handle 1a2b: tbf");
  EXPECT_FALSE(install_qdisc_tree(commands, "eth0", "1a2b:", tbf_leaf(8'000'000, 0, {})).ok());
  EXPECT_TRUE(kernel.qdisc_trees().empty());
}

TEST(QdiscTreeTest, RemovalDeletesOurTreeButNotAnotherFaultsOrTheHosts) {
  FakeCommandRunner commands;
  commands.on("qdisc show", [](const auto&) -> StatusOr<CommandResult> {
    return CommandResult{0, "qdisc fq_codel 0: root refcnt 2\n", ""};
  });
  ASSERT_TRUE(remove_qdisc_tree(commands, "eth0", "1a2b:").ok());
  EXPECT_EQ(commands.calls().size(), 1u) << "the host's root stays";

  FakeCommandRunner kernel_commands;
  testing::FakeNetfilter kernel(kernel_commands);
  kernel.add_qdisc_tree("eth0", "2222:");  // a later fault's tree
  ASSERT_TRUE(remove_qdisc_tree(kernel_commands, "eth0", "1a2b:").ok());
  EXPECT_EQ(kernel.qdisc_trees().size(), 1u) << "not ours: kept";
  ASSERT_TRUE(remove_qdisc_tree(kernel_commands, "eth0", "2222:").ok());
  EXPECT_TRUE(kernel.qdisc_trees().empty());
  kernel.add_qdisc_tree("eth1", "");  // half-built by a crash before the leaf
  ASSERT_TRUE(remove_qdisc_tree(kernel_commands, "eth1", "1a2b:").ok());
  EXPECT_TRUE(kernel.qdisc_trees().empty());
  EXPECT_TRUE(remove_qdisc_tree(kernel_commands, "no-such-if", "1a2b:").ok()) << "interface gone";
}

TEST(QdiscTreeTest, RemovalByLeafFindsOurTreeOnAnyInterface) {
  FakeCommandRunner commands;
  testing::FakeNetfilter kernel(commands);
  kernel.add_qdisc_tree("eth1", "1a2b:");
  kernel.add_qdisc_tree("eth2", "2222:");
  ASSERT_TRUE(remove_qdisc_trees_with_leaf(commands, "1a2b:").ok());
  EXPECT_EQ(kernel.qdisc_trees(), (std::map<std::string, std::string>{{"eth2", "2222:"}}));
  ASSERT_TRUE(remove_qdisc_trees_with_leaf(commands, "1a2b:").ok()) << "idempotent";
}

TEST(ObjectNamesTest, LeafHandlesStayInTheirRangeAndAvoidOurRoot) {
  for (const std::string id : {"a", "b", "fault-1", "0f0e7a7c-9d0b-4a57-8f4e-3f2a9b1c0d11", ""}) {
    const auto handle = fault_object_names(id).qdisc_leaf_handle;
    ASSERT_EQ(handle.back(), ':') << handle;
    const auto major = std::stoul(handle.substr(0, handle.size() - 1), nullptr, 16);
    EXPECT_GE(major, kFirstLeafHandle);
    EXPECT_LT(major, kFirstLeafHandle + kLeafHandleCount);
    EXPECT_EQ(handle, fault_object_names(id).qdisc_leaf_handle) << "stable";
  }
  EXPECT_NE(fault_object_names("a").qdisc_leaf_handle, fault_object_names("b").qdisc_leaf_handle);
}

}  // namespace
}  // namespace chaos::agent::network
