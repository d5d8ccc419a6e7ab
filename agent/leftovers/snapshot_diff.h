// The leftover detector, part 2: compares the snapshot taken before a node's
// first fault of a run with the one taken after its last revert. Each source
// is compared as a multiset of normalised lines (order is no change; one more
// copy of a line is). A changed line that names one of our objects is a
// leftover, attributed to the fault whose object it is; any other change was
// made meanwhile by other software and is reported as foreign, never as ours.
//
// Which names are ours comes from the caller (ObjectNaming), so this library
// needs nothing of the fault families; agent_object_naming.h builds it from
// their naming rules.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "agent/leftovers/system_state_probe.h"

namespace chaos::agent::leftovers {

struct ObjectNaming {
  // Every object any chaos agent creates starts with one of these ("CHAOS-",
  // "chaos_", "cafe:"): a line naming one is ours even when no fault of this
  // run owns it (then its fault_id is "").
  std::vector<std::string> prefixes;
  // The exact names of one fault's objects (chains, tables, qdisc handles).
  std::function<std::vector<std::string>(const std::string& fault_id)> names_of;
};

struct SystemChange {
  std::string source;  // "iptables-save", "tc qdisc dev eth0", ...
  std::string change;  // "added" | "removed"
  std::string line;    // normalised
  // Ours: the fault whose object it is; "" when ours but not attributable.
  std::string fault_id;
  bool ours = false;
};

struct SnapshotDiff {
  std::vector<SystemChange> leftovers;
  std::vector<SystemChange> foreign;
  // Sources not compared (unreadable in either snapshot), sources cut by a
  // bound, changes left out of the lists above by `max_changes`.
  std::vector<std::string> errors;
};

struct CompareBounds {
  // Per list (leftovers, foreign); the rest are counted in `errors`.
  std::size_t max_changes = 256;
  // Faults whose names are matched; more is an error, not a slow compare.
  std::size_t max_fault_ids = 4096;
};

// `fault_ids`: the faults this agent ran for the experiment on this node.
SnapshotDiff compare(const SystemSnapshot& before, const SystemSnapshot& after,
                     const std::vector<std::string>& fault_ids, const ObjectNaming& naming,
                     const CompareBounds& bounds = {});

// "iptables-save: added mangle: -A POSTROUTING -o eth0 -j CHAOS-1a2b-O (fault f-3)"
// "ip rule: removed 100: from all lookup 7 (not ours)"
std::string describe(const SystemChange& change);

// True when `name` occurs in `line` as a whole word (not inside a longer
// chain or table name); a name ending in ':' or '_' may be followed by more
// ("cafe:" in "cafe:1", "chaos_" in "chaos_1a2b").
bool names_object(const std::string& line, const std::string& name);

}  // namespace chaos::agent::leftovers
