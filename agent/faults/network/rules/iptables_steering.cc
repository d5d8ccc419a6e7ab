#include "agent/faults/network/rules/iptables_steering.h"

#include <set>
#include <sstream>

#include "agent/faults/network/rules/iptables_family.h"
#include "agent/faults/network/rules/object_names.h"
#include "common/check.h"

namespace chaos::agent::network {

namespace {

// xt_multiport takes at most 15 ports per rule.
constexpr std::size_t kMultiportLimit = 15;
// The whole batch, not each rule, waits at most this long for the xtables
// lock (legacy iptables; iptables-nft ignores it).
constexpr const char* kLockWaitSeconds = "5";

// One rule of a batch, as iptables-restore reads it (whitespace-separated;
// every token is an interface name, a canonical CIDR, a number or a fixed
// word, so none needs quoting).
using Rule = std::vector<std::string>;

std::string rule_line(const Rule& rule) {
  std::string line;
  for (const auto& token : rule) {
    CHAOS_CHECK(!token.empty() && token.find_first_of(" \t\n\r\"'#") == std::string::npos,
                "iptables-restore token must be a single plain word");
    line += (line.empty() ? "" : " ") + token;
  }
  return line + "\n";
}

std::vector<Cidr> of_family(const std::vector<Cidr>& cidrs, int version) {
  std::vector<Cidr> kept;
  for (const auto& cidr : cidrs) {
    if (cidr.family == version) kept.push_back(cidr);
  }
  return kept;
}

// The scope restricted to one address family, or false when no packet of
// that family can match (e.g. only IPv4 peers were named).
bool narrow_to_family(const TrafficScope& scope, int version, TrafficScope& narrowed) {
  narrowed = scope;
  narrowed.peers = of_family(scope.peers, version);
  narrowed.local_addresses = of_family(scope.local_addresses, version);
  return (scope.peers.empty() || !narrowed.peers.empty()) &&
         (scope.local_addresses.empty() || !narrowed.local_addresses.empty());
}

std::vector<std::string> port_lists(const std::vector<std::uint16_t>& ports) {
  std::vector<std::string> lists;
  for (std::size_t i = 0; i < ports.size(); i += kMultiportLimit) {
    std::string list;
    for (std::size_t j = i; j < ports.size() && j < i + kMultiportLimit; ++j) {
      list += (list.empty() ? "" : ",") + std::to_string(ports[j]);
    }
    lists.push_back(list);
  }
  return lists;
}

Rule target_args(const SteeringTarget& target) {
  if (target.kind == SteeringTarget::Kind::kClassify) return {"-j", "CLASSIFY", "--set-class", target.class_id};
  // --queue-bypass: if no engine is bound (agent died) packets pass.
  return {"-j", "NFQUEUE", "--queue-num", std::to_string(target.queue_number), "--queue-bypass"};
}

void add_exemptions(std::vector<Rule>& rules, const std::string& chain, const std::vector<int>& ports,
                    const SteeringTarget& target) {
  std::vector<std::uint16_t> protected_ports;
  for (int port : ports) {
    if (port > 0 && port <= 65535) protected_ports.push_back(static_cast<std::uint16_t>(port));
  }
  for (const auto& list : port_lists(protected_ports)) {
    for (const char* protocol : {"tcp", "udp"}) {
      rules.push_back({"-A", chain, "-p", protocol, "-m", "multiport", "--ports", list, "-j", "RETURN"});
    }
  }
  // Only a queue must not see the engine's own packets again (re-sent or
  // duplicated). A classifier must: the engine re-sends a packet the
  // kernel dropped after classification, and the copy needs its class too.
  if (target.kind == SteeringTarget::Kind::kQueue) {
    rules.push_back({"-A", chain, "-m", "mark", "--mark", std::to_string(kBypassMark), "-j", "RETURN"});
  }
}

// The match part of one rule: interface, addresses, protocol and ports.
struct RuleShape {
  std::string peer;
  std::string local;
  std::string protocol;
  std::string ports;
};

std::vector<RuleShape> rule_shapes(const TrafficScope& scope, int version) {
  std::vector<std::string> peers, locals, protocols, ports;
  for (const auto& cidr : scope.peers) peers.push_back(cidr.text);
  for (const auto& cidr : scope.local_addresses) locals.push_back(cidr.text);
  if (peers.empty()) peers.push_back("");
  if (locals.empty()) locals.push_back("");
  ports = port_lists(scope.ports);
  if (ports.empty()) ports.push_back("");
  if (scope.protocol == Protocol::kIcmp) {
    protocols.push_back(version == 6 ? "ipv6-icmp" : "icmp");
  } else if (scope.protocol != Protocol::kAny) {
    protocols.push_back(protocol_name(scope.protocol));
  } else if (!scope.ports.empty()) {
    protocols = {"tcp", "udp"};  // multiport needs a protocol
  } else {
    protocols.push_back("");
  }
  std::vector<RuleShape> shapes;
  for (const auto& peer : peers)
    for (const auto& local : locals)
      for (const auto& protocol : protocols)
        for (const auto& port : ports) shapes.push_back({peer, local, protocol, port});
  return shapes;
}

void add_scope_rules(std::vector<Rule>& rules, int version, const std::string& chain, const SteeringPlan& plan,
                     const TrafficScope& scope, bool egress) {
  for (const auto& shape : rule_shapes(scope, version)) {
    Rule rule{"-A", chain};
    const std::string interface_flag = egress ? "-o" : "-i";
    if (scope.interface.empty()) {
      rule.insert(rule.end(), {"!", interface_flag, "lo"});
    } else {
      rule.insert(rule.end(), {interface_flag, scope.interface});
    }
    if (!shape.peer.empty()) rule.insert(rule.end(), {egress ? "-d" : "-s", shape.peer});
    if (!shape.local.empty()) rule.insert(rule.end(), {egress ? "-s" : "-d", shape.local});
    if (!shape.protocol.empty()) rule.insert(rule.end(), {"-p", shape.protocol});
    if (!shape.ports.empty()) rule.insert(rule.end(), {"-m", "multiport", "--ports", shape.ports});
    const auto target = target_args(plan.target);
    rule.insert(rule.end(), target.begin(), target.end());
    rules.push_back(std::move(rule));
  }
}

// The chain a rule jumps or goes to ("-j X" / "-g X"), "" when none.
std::string jump_target(const std::vector<std::string>& tokens) {
  for (std::size_t i = 0; i + 1 < tokens.size(); ++i) {
    if (tokens[i] == "-j" || tokens[i] == "-g") return tokens[i + 1];
  }
  return "";
}

Status run_batch(CommandRunner& commands, const IptablesFamily& family, const std::string& text) {
  RunOptions options;
  options.stdin_text = text;
  auto result = commands.run_checked({family.restore, "-w", kLockWaitSeconds, "--noflush"}, options);
  return result.status();
}

Status remove_in_family(CommandRunner& commands, const IptablesFamily& family, const std::vector<std::string>& chains) {
  auto saved = commands.run_checked({family.save, "-t", "mangle"});
  if (!saved.ok()) return saved.status().with_context("reading the mangle table");
  const std::string batch = steering_removal_batch(saved->stdout_text, chains);
  if (batch.empty()) return {};
  return run_batch(commands, family, batch);
}

}  // namespace

std::vector<RestoreBatch> steering_install_batches(const SteeringPlan& plan) {
  std::vector<RestoreBatch> batches;
  for (const auto& family : kIptablesFamilies) {
    TrafficScope scope;
    if (!narrow_to_family(plan.scope, family.version, scope)) continue;
    std::vector<std::string> chains;
    std::vector<Rule> rules;
    std::vector<Rule> jumps;
    auto build = [&](const std::string& chain, bool egress) {
      chains.push_back(chain);
      add_exemptions(rules, chain, plan.protected_ports, plan.target);
      add_scope_rules(rules, family.version, chain, plan, scope, egress);
      const std::string hook = egress ? "POSTROUTING" : "PREROUTING";
      // CLASSIFY chains only RETURN or CLASSIFY (neither ends the table), so
      // they can go first without hiding any host rule; first is also where
      // a later NFQUEUE verdict (which does end it) cannot skip them, so a
      // bandwidth fault composes with an engine fault on the same packets.
      if (plan.target.kind == SteeringTarget::Kind::kClassify) {
        jumps.push_back({"-I", hook, "1", "-j", chain});
      } else {
        jumps.push_back({"-A", hook, "-j", chain});
      }
    };
    if (scope.egress) build(plan.egress_chain, true);
    if (scope.ingress) build(plan.ingress_chain, false);
    if (chains.empty()) continue;
    std::string text = "*mangle\n";
    // With --noflush, declaring a chain creates it (or empties a leftover
    // of the same fault id).
    for (const auto& chain : chains) text += ":" + chain + " - [0:0]\n";
    for (const auto& rule : rules) text += rule_line(rule);
    for (const auto& jump : jumps) text += rule_line(jump);
    batches.push_back(RestoreBatch{family.version, text + "COMMIT\n"});
  }
  return batches;
}

std::string steering_removal_batch(const std::string& save_output, const std::vector<std::string>& chains) {
  const std::set<std::string> ours(chains.begin(), chains.end());
  std::set<std::string> present;
  std::vector<std::string> deletions;
  std::istringstream lines(save_output);
  std::string line;
  bool in_mangle = false;
  while (std::getline(lines, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.rfind("*", 0) == 0) in_mangle = line == "*mangle";
    if (!in_mangle) continue;
    if (line.rfind(":", 0) == 0) {
      const std::string name = line.substr(1, line.find(' ') == std::string::npos ? std::string::npos
                                                                                 : line.find(' ') - 1);
      if (ours.count(name) != 0) present.insert(name);
      continue;
    }
    if (line.rfind("-A ", 0) != 0) continue;
    std::istringstream words(line);
    std::vector<std::string> tokens;
    for (std::string word; words >> word;) tokens.push_back(word);
    // Rules inside our chains go with the flush; jumps into them from
    // anywhere else are deleted by their exact text, each time it appears.
    if (tokens.size() < 2 || ours.count(tokens[1]) != 0) continue;
    if (ours.count(jump_target(tokens)) != 0) deletions.push_back("-D" + line.substr(2) + "\n");
  }
  if (present.empty() && deletions.empty()) return "";
  std::string text = "*mangle\n";
  for (const auto& deletion : deletions) text += deletion;
  for (const auto& chain : present) text += "-F " + chain + "\n";
  for (const auto& chain : present) text += "-X " + chain + "\n";
  return text + "COMMIT\n";
}

Status install_steering(CommandRunner& commands, const SteeringPlan& plan) {
  for (const auto& batch : steering_install_batches(plan)) {
    const auto& family = iptables_family(batch.version);
    if (auto status = run_batch(commands, family, batch.text); !status.ok()) {
      // This batch left nothing; an earlier family's batch did.
      (void)remove_steering(commands, plan.egress_chain, plan.ingress_chain);
      return status.with_context("installing iptables steering");
    }
  }
  return {};
}

Status remove_steering(CommandRunner& commands, const std::string& egress_chain,
                       const std::string& ingress_chain) {
  Status first_error;
  for (const auto& family : kIptablesFamilies) {
    // Both families even if one fails, so one stuck family keeps nothing
    // else of ours in place.
    if (auto status = remove_in_family(commands, family, {egress_chain, ingress_chain});
        !status.ok() && first_error.ok()) {
      first_error = status.with_context("removing IPv" + std::to_string(family.version) + " steering chains " +
                                        egress_chain + ", " + ingress_chain);
    }
  }
  return first_error;
}

}  // namespace chaos::agent::network
