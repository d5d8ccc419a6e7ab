// Argv and ruleset text of the kernel objects a network fault owns.
#include <gtest/gtest.h>

#include <algorithm>

#include "agent/faults/network/rules/iptables_steering.h"
#include "agent/faults/network/rules/nft_drop_table.h"
#include "agent/faults/network/rules/object_names.h"
#include "agent/faults/network/rules/qdisc_tree.h"
#include "common/command_runner.h"
#include "tests/support/fake_command_runner.h"

namespace chaos::agent::network {
namespace {

using chaos::testing::FakeCommandRunner;

std::vector<std::string> lines_of(const std::vector<Argv>& commands) {
  std::vector<std::string> lines;
  for (const auto& argv : commands) lines.push_back(describe_argv(argv));
  return lines;
}

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

TEST(IptablesSteeringTest, ExemptionsComeFirstAndTheJumpLast) {
  const auto lines = lines_of(steering_install_commands(queue_plan(egress_scope())));
  ASSERT_EQ(lines.size(), 6u);
  EXPECT_EQ(lines[0], "iptables -w 5 -t mangle -N CHAOS-t-O");
  EXPECT_EQ(lines[1], "iptables -w 5 -t mangle -A CHAOS-t-O -p tcp -m multiport --ports 9700,9701 -j RETURN");
  EXPECT_EQ(lines[2], "iptables -w 5 -t mangle -A CHAOS-t-O -p udp -m multiport --ports 9700,9701 -j RETURN");
  EXPECT_EQ(lines[3], "iptables -w 5 -t mangle -A CHAOS-t-O -m mark --mark 1128808787 -j RETURN");
  EXPECT_EQ(lines[4],
            "iptables -w 5 -t mangle -A CHAOS-t-O -o eth0 -d 10.0.0.2/32 -j NFQUEUE --queue-num 31200 "
            "--queue-bypass");
  EXPECT_EQ(lines[5], "iptables -w 5 -t mangle -A POSTROUTING -j CHAOS-t-O");
}

TEST(IptablesSteeringTest, IngressUsesPreroutingAndSwapsAddressRoles) {
  auto scope = egress_scope();
  scope.egress = false;
  scope.ingress = true;
  scope.local_addresses.push_back(*parse_cidr("10.0.0.1"));
  const auto lines = lines_of(steering_install_commands(queue_plan(scope)));
  EXPECT_NE(std::find(lines.begin(), lines.end(),
                      "iptables -w 5 -t mangle -A CHAOS-t-I -i eth0 -s 10.0.0.2/32 -d 10.0.0.1/32 -j NFQUEUE "
                      "--queue-num 31200 --queue-bypass"),
            lines.end());
  EXPECT_EQ(lines.back(), "iptables -w 5 -t mangle -A PREROUTING -j CHAOS-t-I");
}

TEST(IptablesSteeringTest, PortsWithoutProtocolCoverTcpAndUdpAndChunkAtFifteen) {
  TrafficScope scope;  // every interface but loopback
  for (std::uint16_t port = 1; port <= 16; ++port) scope.ports.push_back(port);
  auto plan = queue_plan(scope);
  plan.protected_ports = {};
  plan.target = SteeringTarget{SteeringTarget::Kind::kClassify, 0, "cafe:1"};
  const auto lines = lines_of(steering_install_commands(plan));
  const std::vector<std::string> expected_tail = {
      "iptables -w 5 -t mangle -A CHAOS-t-O ! -o lo -p tcp -m multiport --ports 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15 "
      "-j CLASSIFY --set-class cafe:1",
      "iptables -w 5 -t mangle -A CHAOS-t-O ! -o lo -p tcp -m multiport --ports 16 -j CLASSIFY --set-class cafe:1",
      "iptables -w 5 -t mangle -A CHAOS-t-O ! -o lo -p udp -m multiport --ports 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15 "
      "-j CLASSIFY --set-class cafe:1",
      "iptables -w 5 -t mangle -A CHAOS-t-O ! -o lo -p udp -m multiport --ports 16 -j CLASSIFY --set-class cafe:1",
  };
  for (const auto& expected : expected_tail) {
    EXPECT_NE(std::find(lines.begin(), lines.end(), expected), lines.end()) << expected;
  }
  // The engine's re-sent packets are classified like the originals were.
  EXPECT_EQ(std::count_if(lines.begin(), lines.end(),
                          [](const std::string& line) { return line.find("--mark") != std::string::npos; }),
            0);
  // Classification never ends the table, so its jump goes first.
  EXPECT_EQ(lines.back(), "ip6tables -w 5 -t mangle -I POSTROUTING 1 -j CHAOS-t-O");
}

TEST(IptablesSteeringTest, EachAddressFamilyGetsItsOwnBinary) {
  auto count = [](const std::vector<std::string>& lines, const std::string& prefix) {
    return std::count_if(lines.begin(), lines.end(), [&](const auto& l) { return l.rfind(prefix, 0) == 0; });
  };
  TrafficScope any_address;
  any_address.protocol = Protocol::kIcmp;
  auto lines = lines_of(steering_install_commands(queue_plan(any_address)));
  EXPECT_GT(count(lines, "iptables "), 0);
  EXPECT_GT(count(lines, "ip6tables "), 0);
  EXPECT_NE(std::find(lines.begin(), lines.end(),
                      "ip6tables -w 5 -t mangle -A CHAOS-t-O ! -o lo -p ipv6-icmp -j NFQUEUE --queue-num 31200 "
                      "--queue-bypass"),
            lines.end());

  TrafficScope v6_peer;
  v6_peer.peers.push_back(*parse_cidr("fd00::2"));
  lines = lines_of(steering_install_commands(queue_plan(v6_peer)));
  EXPECT_EQ(count(lines, "iptables "), 0);
  EXPECT_GT(count(lines, "ip6tables "), 0);

  TrafficScope mixed = v6_peer;
  mixed.peers.push_back(*parse_cidr("10.0.0.2"));
  lines = lines_of(steering_install_commands(queue_plan(mixed)));
  EXPECT_NE(std::find(lines.begin(), lines.end(),
                      "iptables -w 5 -t mangle -A CHAOS-t-O ! -o lo -d 10.0.0.2/32 -j NFQUEUE --queue-num 31200 "
                      "--queue-bypass"),
            lines.end());
  EXPECT_NE(std::find(lines.begin(), lines.end(),
                      "ip6tables -w 5 -t mangle -A CHAOS-t-O ! -o lo -d fd00::2/128 -j NFQUEUE --queue-num 31200 "
                      "--queue-bypass"),
            lines.end());
}

TEST(IptablesSteeringTest, FailedInstallRemovesWhatWasAdded) {
  FakeCommandRunner commands;
  commands.fail_on("-A POSTROUTING", "iptables: No chain/target/match by that name.");
  commands.fail_on("-S CHAOS-t-", "no chain");
  commands.fail_on("-D POSTROUTING", "no rule");
  commands.fail_on("-D PREROUTING", "no rule");
  const auto status = install_steering(commands, queue_plan(egress_scope()));
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find("No chain/target/match"), std::string::npos);
  const auto lines = commands.call_lines();
  EXPECT_NE(std::find(lines.begin(), lines.end(), "iptables -w 5 -t mangle -X CHAOS-t-O"), lines.end());
}

TEST(IptablesSteeringTest, RemovalFailsWhenTheChainSurvives) {
  FakeCommandRunner commands;  // every command "succeeds", so -S still finds the chain
  commands.fail_on("-D ", "no rule");
  EXPECT_EQ(remove_steering(commands, "CHAOS-t-O", "CHAOS-t-I").code(), StatusCode::kInternal);
  commands.fail_on("-S CHAOS-t-", "no chain");
  EXPECT_TRUE(remove_steering(commands, "CHAOS-t-O", "CHAOS-t-I").ok());
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
            "    oifname \"eth0\" ip daddr { 10.0.0.2/32 } drop\n"
            "  }\n"
            "  chain ingress {\n"
            "    type filter hook prerouting priority -150; policy accept;\n"
            "    meta l4proto { tcp, udp } th sport { 9700 } accept\n"
            "    meta l4proto { tcp, udp } th dport { 9700 } accept\n"
            "    iifname \"eth0\" ip saddr { 10.0.0.2/32 } drop\n"
            "  }\n"
            "}\n");
}

TEST(NftDropTableTest, PartialLossUsesNumgenAndSplitsAddressFamilies) {
  TrafficScope scope;
  scope.peers = {*parse_cidr("10.0.0.0/8"), *parse_cidr("fd00::/8")};
  scope.protocol = Protocol::kUdp;
  scope.ports = {53};
  const auto text = drop_table_ruleset(DropTablePlan{"chaos_t", scope, {}, 125'000});
  EXPECT_NE(text.find("oifname != \"lo\" ip daddr { 10.0.0.0/8 } meta l4proto udp th sport { 53 } numgen random "
                      "mod 1000000 < 125000 drop"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("ip6 daddr { fd00::/8 } meta l4proto udp th dport { 53 }"), std::string::npos) << text;
  EXPECT_EQ(text.find("chain ingress"), std::string::npos);
}

TEST(NftDropTableTest, InstallIsOneTransactionAndRemovalIsIdempotent) {
  FakeCommandRunner commands;
  ASSERT_TRUE(install_drop_table(commands, DropTablePlan{"chaos_t", egress_scope(), {}, 1'000'000}).ok());
  EXPECT_EQ(commands.call_lines(), (std::vector<std::string>{"nft -f -"}));
  EXPECT_NE(commands.stdin_texts()[0].find("table inet chaos_t"), std::string::npos);

  commands.clear();
  commands.fail_on("nft list table", "Error: No such file or directory");
  EXPECT_TRUE(remove_drop_table(commands, "chaos_t").ok());
  EXPECT_EQ(commands.call_lines(), (std::vector<std::string>{"nft list table inet chaos_t"}));
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

TEST(QdiscTreeTest, InstallBuildsTheTreeOnADefaultRoot) {
  FakeCommandRunner commands;
  commands.on("qdisc show", [](const auto&) -> StatusOr<CommandResult> {
    return CommandResult{0, "qdisc noqueue 0: root refcnt 2 \n", ""};
  });
  ASSERT_TRUE(install_qdisc_tree(commands, "eth0", tbf_leaf(8'000'000, 0, {})).ok());
  EXPECT_EQ(commands.call_lines(),
            (std::vector<std::string>{
                "tc qdisc show dev eth0 root",
                "tc qdisc add dev eth0 root handle cafe: htb default 0",
                "tc class add dev eth0 parent cafe: classid cafe:1 htb rate 100gbit",
                "tc qdisc add dev eth0 parent cafe:1 handle cafd: tbf rate 8000000bit burst 10000 latency 50000us",
            }));
}

TEST(QdiscTreeTest, InstallRefusesToReplaceAConfiguredRootQdisc) {
  FakeCommandRunner commands;
  commands.on("qdisc show", [](const auto&) -> StatusOr<CommandResult> {
    return CommandResult{0, "qdisc fq_codel 8001: root refcnt 2 limit 10240p\n", ""};
  });
  const auto status = install_qdisc_tree(commands, "eth0", tbf_leaf(8'000'000, 0, {}));
  EXPECT_EQ(status.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(status.message().find("fq_codel 8001:"), std::string::npos);
  EXPECT_EQ(commands.calls().size(), 1u);  // nothing was changed
}

TEST(QdiscTreeTest, RemovalDeletesOnlyOurRoot) {
  FakeCommandRunner commands;
  commands.on("qdisc show", [](const auto&) -> StatusOr<CommandResult> {
    return CommandResult{0, "qdisc fq_codel 0: root refcnt 2\n", ""};
  });
  ASSERT_TRUE(remove_qdisc_tree(commands, "eth0").ok());
  EXPECT_EQ(commands.calls().size(), 1u);
  commands.on("qdisc show", [](const auto&) -> StatusOr<CommandResult> {
    return CommandResult{0, "qdisc htb cafe: root refcnt 2 r2q 10 default 0\n", ""};
  });
  ASSERT_TRUE(remove_qdisc_tree(commands, "eth0").ok());
  EXPECT_EQ(commands.call_lines().back(), "tc qdisc del dev eth0 root");
}

}  // namespace
}  // namespace chaos::agent::network
