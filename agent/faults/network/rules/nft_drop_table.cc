#include "agent/faults/network/rules/nft_drop_table.h"

namespace chaos::agent::network {

namespace {

// Before conntrack (-200) would even be too early to matter; -150 runs
// ahead of the usual filter chains (0) so drops are not bypassed by them.
constexpr const char* kChainPriority = "-150";

std::string join_set(const std::vector<std::string>& items) {
  std::string text = "{ ";
  for (std::size_t i = 0; i < items.size(); ++i) text += (i ? ", " : "") + items[i];
  return text + " }";
}

std::vector<std::string> address_matches(const std::vector<Cidr>& cidrs, const char* direction_keyword) {
  std::vector<std::string> v4, v6;
  for (const auto& cidr : cidrs) (cidr.family == 4 ? v4 : v6).push_back(cidr.text);
  std::vector<std::string> matches;
  if (!v4.empty()) matches.push_back(std::string("ip ") + direction_keyword + " " + join_set(v4));
  if (!v6.empty()) matches.push_back(std::string("ip6 ") + direction_keyword + " " + join_set(v6));
  if (matches.empty()) matches.push_back("");
  return matches;
}

std::vector<std::string> transport_matches(const TrafficScope& scope) {
  std::string protocol;
  if (scope.protocol == Protocol::kIcmp) return {"meta l4proto { icmp, ipv6-icmp }"};
  if (scope.protocol != Protocol::kAny) protocol = std::string("meta l4proto ") + protocol_name(scope.protocol);
  if (scope.ports.empty()) return {protocol};
  if (protocol.empty()) protocol = "meta l4proto { tcp, udp }";
  std::vector<std::string> ports;
  for (auto port : scope.ports) ports.push_back(std::to_string(port));
  // "either end": one rule per port field.
  return {protocol + " th sport " + join_set(ports), protocol + " th dport " + join_set(ports)};
}

// The counters are the fault's proof (kernel_readback.h): the first one
// counts the packets in scope, the last one those dropped (one counter when
// every matching packet is dropped).
std::string drop_verdict(int drop_per_million) {
  if (drop_per_million >= 1'000'000) return "counter drop";
  return "counter numgen random mod 1000000 < " + std::to_string(drop_per_million) + " counter drop";
}

std::string chain_text(const std::string& name, const char* hook, bool egress, const DropTablePlan& plan) {
  std::string text = "  chain " + name + " {\n    type filter hook " + hook + " priority " + kChainPriority +
                     "; policy accept;\n";
  std::vector<std::string> ports;
  for (int port : plan.protected_ports) {
    if (port > 0 && port <= 65535) ports.push_back(std::to_string(port));
  }
  if (!ports.empty()) {
    text += "    meta l4proto { tcp, udp } th sport " + join_set(ports) + " accept\n";
    text += "    meta l4proto { tcp, udp } th dport " + join_set(ports) + " accept\n";
  }
  const auto& scope = plan.scope;
  const std::string interface = scope.interface.empty()
                                    ? std::string(egress ? "oifname" : "iifname") + " != \"lo\""
                                    : std::string(egress ? "oifname" : "iifname") + " \"" + scope.interface + "\"";
  for (const auto& peer : address_matches(scope.peers, egress ? "daddr" : "saddr")) {
    for (const auto& local : address_matches(scope.local_addresses, egress ? "saddr" : "daddr")) {
      // An IPv4 peer with an IPv6 local address can never match.
      if (!peer.empty() && !local.empty() && peer.substr(0, 3) != local.substr(0, 3)) continue;
      for (const auto& transport : transport_matches(scope)) {
        text += "    " + interface;
        for (const auto* part : {&peer, &local, &transport}) {
          if (!part->empty()) text += " " + *part;
        }
        text += " " + drop_verdict(plan.drop_per_million) + "\n";
      }
    }
  }
  return text + "  }\n";
}

}  // namespace

std::string drop_table_ruleset(const DropTablePlan& plan) {
  std::string text = "table inet " + plan.table + " {\n";
  if (plan.scope.egress) text += chain_text("egress", "postrouting", true, plan);
  if (plan.scope.ingress) text += chain_text("ingress", "prerouting", false, plan);
  return text + "}\n";
}

std::string drop_table_replacement(const std::string& table) {
  // nft 1.0.6 has no "destroy": adding the (possibly existing) table first
  // makes the delete succeed either way, in the same transaction.
  return "add table inet " + table + "\ndelete table inet " + table + "\n";
}

Status install_drop_table(CommandRunner& commands, const DropTablePlan& plan) {
  RunOptions options;
  // One nft transaction: the table appears whole or not at all, replacing
  // a leftover of the same fault id rather than adding rules to it.
  options.stdin_text = drop_table_replacement(plan.table) + drop_table_ruleset(plan);
  auto result = commands.run_checked({"nft", "-f", "-"}, options);
  if (!result.ok()) return result.status().with_context("installing nft table " + plan.table);
  return {};
}

Status remove_drop_table(CommandRunner& commands, const std::string& table) {
  RunOptions options;
  options.stdin_text = drop_table_replacement(table);
  auto removed = commands.run_checked({"nft", "-f", "-"}, options);
  if (!removed.ok()) return removed.status().with_context("removing nft table " + table);
  return {};
}

}  // namespace chaos::agent::network
