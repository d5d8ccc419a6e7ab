// Drops packets of a TrafficScope in an nftables table the fault owns
// ("inet chaos_<tag>"): all of them for a partition, a random share for
// plain loss (numgen random). A table of our own is evaluated alongside the
// host's tables, so nothing of the host's is flushed or reordered, and the
// whole fault is added and deleted atomically by `nft -f -` / `nft delete
// table`. `accept` in our chain only ends our chain, never the host's.
#pragma once

#include <string>
#include <vector>

#include "agent/faults/network/traffic_scope.h"
#include "common/command_runner.h"

namespace chaos::agent::network {

struct DropTablePlan {
  std::string table;  // "chaos_<tag>"
  TrafficScope scope;
  std::vector<int> protected_ports;
  // Share of matching packets dropped, in millionths; 1'000'000 drops all.
  int drop_per_million = 1'000'000;
};

// The ruleset text for `nft -f -`.
std::string drop_table_ruleset(const DropTablePlan& plan);

// "add table X; delete table X": deletes the table whether or not it exists,
// in one transaction (nft 1.0.6 lacks `destroy`).
std::string drop_table_replacement(const std::string& table);

Status install_drop_table(CommandRunner& commands, const DropTablePlan& plan);

// Idempotent (one `nft -f -`): a table that is already gone is success.
Status remove_drop_table(CommandRunner& commands, const std::string& table);

}  // namespace chaos::agent::network
