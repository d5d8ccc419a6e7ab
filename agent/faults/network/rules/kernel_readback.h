// Reads a fault's kernel objects back from the tools' own listings
// (`iptables-save -c`, `nft -j list table`, `tc -s qdisc show`), never from
// our records: the proof that a fault is in place (and counting) after
// apply, and gone after revert. Parsers are pure and unit-tested; the
// readers run one listing per family / table / interface.
//
// Every listing is parsed up to kMaxListingBytes only (the CommandRunner
// does not cap what a tool prints); a miss past the cap says so.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "agent/faults/network/rules/iptables_steering.h"
#include "agent/faults/network/rules/nft_drop_table.h"
#include "common/command_runner.h"

namespace chaos::agent::network {

inline constexpr std::size_t kMaxListingBytes = std::size_t{4} << 20;

// One chain of ours in one family's mangle table, as the listing shows it.
struct ListedChain {
  bool exists = false;
  std::vector<std::string> jumps_from;  // base or other chains with "-j <chain>"
  int target_rules = 0;                 // rules ending in the plan's target
  std::uint64_t target_packets = 0;     // their kernel counters, summed
};

// Parses `iptables-save [-c] -t mangle` for `chain`; a target rule is one
// whose -j is NFQUEUE with `--queue-num <queue>` (kQueue) or CLASSIFY to the
// class (kClassify, compared as numbers: the listing says "cafe:0001").
ListedChain parse_listed_chain(const std::string& save_output, const std::string& chain,
                               const SteeringTarget& target);

struct SteeringProof {
  std::uint64_t packets_matched = 0;
  std::string evidence;  // "iptables mangle CHAOS-x-O: jump from POSTROUTING, 1 NFQUEUE rule (queue 4)"
};

// Every chain the plan installs, in each family it installs it, exists,
// is jumped to from its hook and holds its target rule; FAILED_PRECONDITION
// naming the first piece missing ("iptables mangle: no jump from
// POSTROUTING to CHAOS-1a2b-O").
StatusOr<SteeringProof> read_back_steering(CommandRunner& commands, const SteeringPlan& plan);

// What of the chains is still listed in either family ("ip6tables mangle:
// chain CHAOS-x-O", "iptables mangle: jump from POSTROUTING to CHAOS-x-O");
// empty when nothing.
StatusOr<std::vector<std::string>> steering_leftovers(CommandRunner& commands, const std::string& egress_chain,
                                                      const std::string& ingress_chain);

struct DropTableProof {
  std::uint64_t packets_matched = 0;  // first counter of each drop rule
  std::uint64_t packets_dropped = 0;  // last counter of each drop rule
  std::string evidence;
};

// Parses `nft -j list table inet <table>` against the plan: its chains
// (egress on postrouting, ingress on prerouting) each with a drop rule.
StatusOr<DropTableProof> parse_drop_table(const std::string& json_text, const DropTablePlan& plan);
StatusOr<DropTableProof> read_back_drop_table(CommandRunner& commands, const DropTablePlan& plan);

// True while `nft list tables` shows "table inet <table>".
StatusOr<bool> drop_table_listed(CommandRunner& commands, const std::string& table);

// Our tree on one interface, from `tc -s qdisc show dev X`.
struct ListedQdiscTree {
  bool root = false;       // htb cafe: is the root
  std::string leaf;        // handle of the qdisc under cafe:1, "" when none
  std::string leaf_kind;   // "tbf", "netem"
  std::uint64_t leaf_sent_packets = 0;
  std::uint64_t leaf_dropped = 0;
  std::uint64_t leaf_overlimits = 0;
};
// One tree per interface, from `tc [-s] qdisc show [dev X]` (lines "qdisc
// <kind> <handle> [dev <if>] root|parent <id> ...", with -s each followed by
// " Sent <bytes> bytes <pkts> pkt (dropped <n>, overlimits <n> ..."). With
// `dev X` the lines name no interface: `only_interface` is X then; lines
// naming none are skipped when it is empty. Also what removal reads
// (qdisc_tree.cc), so both agree on what a tree of ours looks like.
std::map<std::string, ListedQdiscTree> parse_qdisc_trees(const std::string& show_output,
                                                         const std::string& only_interface);
ListedQdiscTree parse_qdisc_listing(const std::string& show_output);

struct QdiscProof {
  std::uint64_t sent_packets = 0;
  std::uint64_t dropped = 0;
  std::string evidence;
};
StatusOr<QdiscProof> read_back_qdisc_tree(CommandRunner& commands, const std::string& interface,
                                          const std::string& leaf_handle);

// Where a tree with our leaf (or our root without any leaf) is still
// listed: on `interface`, or on any interface when it is empty. An
// interface that is gone holds nothing.
StatusOr<std::vector<std::string>> qdisc_leftovers(CommandRunner& commands, const std::string& interface,
                                                   const std::string& leaf_handle);

}  // namespace chaos::agent::network
