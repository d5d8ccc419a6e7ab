// A model of the kernel state the network faults change, answering the
// commands they run (iptables-save / iptables-restore --noflush for the
// mangle table of each family, nft -f - / nft list / nft -j list table for
// nft tables, tc for qdisc trees) so unit tests can assert on what is left,
// not only on which commands ran. Batches are atomic like the real tools:
// a failing iptables-restore or nft -f changes nothing; tc -batch stops at
// the first failing line, as tc does.
#pragma once

#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "tests/support/fake_command_runner.h"

namespace chaos::agent::network::testing {

class FakeNetfilter {
 public:
  // Registers responders on `commands`; later rules on `commands` (fail_on,
  // on_input) still win over these.
  explicit FakeNetfilter(chaos::testing::FakeCommandRunner& commands, std::vector<std::string> interfaces = {
                                                                          "eth0", "eth1", "eth2"});

  // Our user chains in the mangle table of IPv4 (4) or IPv6 (6).
  std::set<std::string> chains(int version) const;
  std::vector<std::string> rules(int version, const std::string& chain) const;
  // "inet chaos_x", "ip mangle", ...
  std::set<std::string> tables() const;
  // interface -> leaf handle ("" for a tree without a leaf), our trees only.
  std::map<std::string, std::string> qdisc_trees() const;
  // Nothing of any fault is left: no CHAOS-* chain or jump, no chaos_*
  // table, no htb cafe: root.
  bool clean() const;
  std::string describe() const;

  // Seeds state as a crashed agent or the host would have left it.
  void add_qdisc_tree(const std::string& interface, const std::string& leaf_handle);
  void add_table(const std::string& family_and_name);

  // Kernel counters the listings show: every rule of `chain` in
  // `iptables-save -c` ([packets:bytes]), every counter of an nft table in
  // `nft -j list table`, the leaf qdisc's "Sent" line in `tc -s qdisc show`.
  void set_chain_packets(int version, const std::string& chain, std::uint64_t packets);
  void set_table_packets(const std::string& family_and_name, std::uint64_t packets);
  void set_leaf_sent(const std::string& interface, std::uint64_t packets);
  // Deletes one rule the way someone else would (not through our batches).
  void erase_rule(int version, const std::string& chain, std::size_t index);

  // Commands whose argv or stdin contains `needle` fail and change nothing
  // (a kernel refusing, a tool crashing); until clear_failures().
  void fail_commands_containing(std::string needle);
  void clear_failures();

  // Commands whose argv or stdin contains `needle` wait, without holding
  // the model, until open_gate(): a command hanging until its timeout.
  void close_gate(std::string needle);
  void open_gate();
  // True once a command waits at the gate; false at the deadline.
  bool wait_until_gate_holds_a_command(std::chrono::milliseconds deadline);

 private:
  struct Mangle {
    bool exists = false;                                  // iptables-nft made the nft table
    std::set<std::string> base_chains;                    // base chains iptables-nft created
    std::map<std::string, std::vector<std::string>> chains;  // every chain -> rule texts (after "-A CHAIN ")
  };
  struct Tree {
    bool root = false;
    std::string leaf;
  };

  // Gate and failures, checked before the model is locked.
  std::optional<CommandResult> intercept(const std::vector<std::string>& argv, const std::string& text);
  StatusOr<CommandResult> iptables_save(int version, bool with_counters);
  StatusOr<CommandResult> iptables_restore(int version, const std::string& text);
  StatusOr<CommandResult> nft(const std::vector<std::string>& argv, const std::string& text);
  StatusOr<CommandResult> tc(const std::vector<std::string>& argv, const std::string& text);
  std::string mangle_json(int version) const;
  std::string table_json(const std::string& family_and_name) const;

  std::mutex gate_mutex_;
  std::condition_variable gate_changed_;
  std::string gate_;          // "" when open
  int waiting_at_gate_ = 0;
  std::vector<std::string> failing_;

  mutable std::mutex mutex_;
  Mangle mangle_[2];  // [0] IPv4, [1] IPv6
  std::map<std::string, std::string> tables_;  // "inet chaos_x" -> ruleset text
  std::set<std::string> interfaces_;
  std::map<std::string, Tree> trees_;
  std::map<std::pair<int, std::string>, std::uint64_t> chain_packets_;
  std::map<std::string, std::uint64_t> table_packets_;
  std::map<std::string, std::uint64_t> leaf_sent_;
};

}  // namespace chaos::agent::network::testing
