// What a node looks like to the fault kinds, as text: every kernel object and
// file a fault may change (nftables, iptables and ip6tables, qdiscs, classes
// and filters of every link, policy routing rules, resolv.conf) and the run
// state and cgroups of chosen processes. Normalised so that only structure is compared:
// packet and byte counters, chain counters and tool banners with timestamps
// are blanked. Capture one before a fault and one after its revert (or after
// journal recovery); diff_node_states() names every line that differs, so a
// leftover rule shows up in the failure message as itself.
//
// Reusable outside the agent tests (a leftover detector compares the same
// sections); every command goes through a CommandRunner as an argv vector.
#pragma once

#include <sys/types.h>

#include <map>
#include <string>
#include <vector>

#include "common/command_runner.h"
#include "common/status.h"

namespace chaos::testing {

struct NodeScope {
  // The network namespace (an `ip netns` name) whose rules are captured.
  std::string netns;
  // Processes that must be running (not stopped) afterwards; their state is
  // captured as "running", "stopped" or "gone".
  std::vector<pid_t> processes;
};

class NodeStateSnapshot {
 public:
  // Runs the commands of every section inside `scope.netns`, several at
  // once (`commands` must allow concurrent calls). Fails when a
  // command cannot run or a required one exits non-zero (the namespace is
  // gone, a tool is missing): a snapshot that silently missed a section
  // would compare equal when it should not.
  static StatusOr<NodeStateSnapshot> capture(CommandRunner& commands, const NodeScope& scope);

  // Section title (the command or file it came from) -> normalised lines.
  const std::map<std::string, std::vector<std::string>>& sections() const { return sections_; }
  // Adds (or replaces) a section from raw command output, normalising it.
  void add_section(const std::string& title, const std::string& raw_text);

 private:
  std::map<std::string, std::vector<std::string>> sections_;
};

// Blanks what changes without a fault changing anything: nft and tc
// counters, iptables-save's "[packets:bytes]" and "# Generated/Completed"
// banners, qdisc reference counts; drops empty lines and trailing blanks.
std::vector<std::string> normalise_state_text(const std::string& raw_text);

// "" when both are equal. Otherwise, per differing section, the section's
// title and its differing lines, "- " for a line only in `baseline` and
// "+ " for a line only in `now` (a leftover rule is a "+" line):
//
//   nft list ruleset:
//     + table inet chaos_1a2b3c4d {
//     + 	chain output {
std::string diff_node_states(const NodeStateSnapshot& baseline, const NodeStateSnapshot& now);

// 'S', 'R', 'D', ... -> "running"; 'T', 't' -> "stopped"; in a frozen v1
// freezer cgroup -> "frozen"; no such process or a zombie -> "gone". Reads
// /proc/PID/stat and the process's freezer.state.
std::string process_run_state(pid_t pid);

}  // namespace chaos::testing
