// Steers the packets of a TrafficScope to a target with iptables (mangle
// table) chains the fault owns: NFQUEUE for the userspace engine, CLASSIFY
// for a qdisc class (tbf / netem). The kernel here lacks nft's queue
// expression but has xt_NFQUEUE, which iptables-nft reaches through
// nft_compat; iptables is therefore the one tool that works everywhere.
//
// IPv4 rules go to iptables and IPv6 rules to ip6tables (same chain names);
// a family gets rules unless the scope names CIDRs only of the other one.
// Each family's chains, rules and jumps are one batch fed on stdin to
// `iptables-restore --noflush` (one process, one atomic commit with
// iptables-nft: a failed batch leaves nothing of itself); removal reads
// `iptables-save -t mangle` and deletes whatever of ours it shows (every jump
// into our chains, then the chains) in one batch the same way.
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

// One address family's iptables-restore input ("*mangle ... COMMIT").
struct RestoreBatch {
  int version = 4;  // 4: iptables-restore, 6: ip6tables-restore
  std::string text;
};

// The batches that build the chains, one per family that gets rules; in
// each, the chains and their rules come before the jumps into them.
std::vector<RestoreBatch> steering_install_batches(const SteeringPlan& plan);

// The batch that removes `chains` as `iptables-save -t mangle` shows them:
// every rule jumping into one of them (wherever it is, as often as it is
// there), then their rules and the chains themselves. Empty when none of
// them exists.
std::string steering_removal_batch(const std::string& save_output, const std::vector<std::string>& chains);

// Installs all-or-nothing: one batch per family; if the second fails, the
// first is removed again.
Status install_steering(CommandRunner& commands, const SteeringPlan& plan);

// Idempotent removal: one `iptables-save` per family, and one restore batch
// per family that still has something of ours. Fails if a batch fails (the
// chain then still exists).
Status remove_steering(CommandRunner& commands, const std::string& egress_chain,
                       const std::string& ingress_chain);

}  // namespace chaos::agent::network
