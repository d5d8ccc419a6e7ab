// Steers the packets of a TrafficScope to a target with iptables (mangle
// table) chains the fault owns: NFQUEUE for the userspace engine, CLASSIFY
// for a qdisc class (tbf / netem). The kernel here lacks nft's queue
// expression but has xt_NFQUEUE, which iptables-nft reaches through
// nft_compat; iptables is therefore the one tool that works everywhere.
//
// IPv4 rules go to iptables and IPv6 rules to ip6tables (same chain names);
// a family gets rules unless the scope names CIDRs only of the other one.
// Layout per direction and family: one jump from POSTROUTING (egress) or
// PREROUTING (ingress) into "CHAOS-<tag>-O|I" (appended after the host's
// rules for NFQUEUE, inserted first for CLASSIFY, see the .cc):
//   1. RETURN for the agent's protected ports (tcp and udp, either end)
//   2. NFQUEUE only: RETURN for packets carrying kBypassMark (what the
//      engine re-sends: delayed packets of local sockets, duplicates)
//   3. the scope's matches -> target
// RETURN rather than ACCEPT so that the host's later rules still see every
// packet we do not touch. The mangle table runs before filter, so the
// host's filter rules also still apply to packets we delay.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "agent/faults/network/traffic_scope.h"
#include "common/command_runner.h"

namespace chaos::agent::network {

using Argv = std::vector<std::string>;

struct SteeringTarget {
  enum class Kind { kQueue, kClassify };
  Kind kind = Kind::kQueue;
  std::uint16_t queue_number = 0;
  std::string class_id;  // "cafe:1" for kClassify
};

struct SteeringPlan {
  std::string egress_chain;
  std::string ingress_chain;
  TrafficScope scope;
  std::vector<int> protected_ports;
  SteeringTarget target;
};

// Every command that builds the chains, jumps last so a half-built chain is
// never reachable.
std::vector<Argv> steering_install_commands(const SteeringPlan& plan);

// Installs all-or-nothing: on failure everything already added is removed.
Status install_steering(CommandRunner& commands, const SteeringPlan& plan);

// Idempotent removal; fails only if a chain still exists afterwards.
Status remove_steering(CommandRunner& commands, const std::string& egress_chain,
                       const std::string& ingress_chain);

}  // namespace chaos::agent::network
