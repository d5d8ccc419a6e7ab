#include "agent/faults/network/rules/iptables_steering.h"

#include "agent/faults/network/rules/object_names.h"

namespace chaos::agent::network {

namespace {

// xt_multiport takes at most 15 ports per rule.
constexpr std::size_t kMultiportLimit = 15;
// Jumps are removed one by one; a bound keeps a confused state from looping.
constexpr int kMaxJumpRemovals = 8;

// iptables and ip6tables take the same arguments; one family per binary.
struct Family {
  const char* binary;
  int version;
};
constexpr Family kFamilies[] = {{"iptables", 4}, {"ip6tables", 6}};

Argv mangle(const Family& family, std::initializer_list<std::string> args) {
  Argv argv{family.binary, "-w", "5", "-t", "mangle"};
  argv.insert(argv.end(), args);
  return argv;
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

Argv target_args(const SteeringTarget& target) {
  if (target.kind == SteeringTarget::Kind::kClassify) return {"-j", "CLASSIFY", "--set-class", target.class_id};
  // --queue-bypass: if no engine is bound (agent died) packets pass.
  return {"-j", "NFQUEUE", "--queue-num", std::to_string(target.queue_number), "--queue-bypass"};
}

void add_exemptions(std::vector<Argv>& commands, const Family& family, const std::string& chain,
                    const std::vector<int>& ports, const SteeringTarget& target) {
  std::vector<std::uint16_t> protected_ports;
  for (int port : ports) {
    if (port > 0 && port <= 65535) protected_ports.push_back(static_cast<std::uint16_t>(port));
  }
  for (const auto& list : port_lists(protected_ports)) {
    for (const char* protocol : {"tcp", "udp"}) {
      commands.push_back(
          mangle(family, {"-A", chain, "-p", protocol, "-m", "multiport", "--ports", list, "-j", "RETURN"}));
    }
  }
  // Only a queue must not see the engine's own packets again (re-sent or
  // duplicated). A classifier must: the engine re-sends a packet the
  // kernel dropped after classification, and the copy needs its class too.
  if (target.kind == SteeringTarget::Kind::kQueue) {
    commands.push_back(
        mangle(family, {"-A", chain, "-m", "mark", "--mark", std::to_string(kBypassMark), "-j", "RETURN"}));
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

void add_scope_rules(std::vector<Argv>& commands, const Family& family, const std::string& chain,
                     const SteeringPlan& plan, const TrafficScope& scope, bool egress) {
  for (const auto& shape : rule_shapes(scope, family.version)) {
    Argv rule = mangle(family, {"-A", chain});
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
    commands.push_back(std::move(rule));
  }
}

}  // namespace

std::vector<Argv> steering_install_commands(const SteeringPlan& plan) {
  std::vector<Argv> commands;
  std::vector<Argv> jumps;
  for (const auto& family : kFamilies) {
    TrafficScope scope;
    if (!narrow_to_family(plan.scope, family.version, scope)) continue;
    auto build = [&](const std::string& chain, bool egress) {
      commands.push_back(mangle(family, {"-N", chain}));
      add_exemptions(commands, family, chain, plan.protected_ports, plan.target);
      add_scope_rules(commands, family, chain, plan, scope, egress);
      const std::string hook = egress ? "POSTROUTING" : "PREROUTING";
      // CLASSIFY chains only RETURN or CLASSIFY (neither ends the table), so
      // they can go first without hiding any host rule; first is also where
      // a later NFQUEUE verdict (which does end it) cannot skip them, so a
      // bandwidth fault composes with an engine fault on the same packets.
      if (plan.target.kind == SteeringTarget::Kind::kClassify) {
        jumps.push_back(mangle(family, {"-I", hook, "1", "-j", chain}));
      } else {
        jumps.push_back(mangle(family, {"-A", hook, "-j", chain}));
      }
    };
    if (scope.egress) build(plan.egress_chain, true);
    if (scope.ingress) build(plan.ingress_chain, false);
  }
  commands.insert(commands.end(), jumps.begin(), jumps.end());
  return commands;
}

Status install_steering(CommandRunner& commands, const SteeringPlan& plan) {
  for (const auto& argv : steering_install_commands(plan)) {
    auto result = commands.run_checked(argv);
    if (!result.ok()) {
      (void)remove_steering(commands, plan.egress_chain, plan.ingress_chain);
      return result.status().with_context("installing iptables steering");
    }
  }
  return {};
}

Status remove_steering(CommandRunner& commands, const std::string& egress_chain,
                       const std::string& ingress_chain) {
  for (const auto& family : kFamilies) {
    for (const auto& [hook, chain] :
         {std::pair{"POSTROUTING", egress_chain}, std::pair{"PREROUTING", ingress_chain}}) {
      // A crash between two applies could leave the jump twice; remove all.
      for (int i = 0; i < kMaxJumpRemovals; ++i) {
        auto result = commands.run(mangle(family, {"-D", hook, "-j", chain}));
        if (!result.ok() || result->exit_code != 0) break;
      }
      (void)commands.run(mangle(family, {"-F", chain}));
      (void)commands.run(mangle(family, {"-X", chain}));
      auto still_there = commands.run(mangle(family, {"-S", chain}));
      if (!still_there.ok()) return still_there.status().with_context("checking " + chain);
      if (still_there->exit_code == 0) {
        return internal_error(std::string(family.binary) + " chain mangle/" + chain + " could not be removed");
      }
    }
  }
  return {};
}

}  // namespace chaos::agent::network
