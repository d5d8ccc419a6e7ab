#include "agent/faults/network/rules/kernel_readback.h"

#include <algorithm>
#include <map>
#include <sstream>

#include <nlohmann/json.hpp>

#include "agent/faults/network/rules/iptables_family.h"
#include "agent/faults/network/rules/qdisc_tree.h"

namespace chaos::agent::network {

namespace {

// The listing up to the cap, cut at a line end so no line is half parsed.
std::string bounded(const std::string& text, bool* truncated = nullptr) {
  if (truncated != nullptr) *truncated = text.size() > kMaxListingBytes;
  if (text.size() <= kMaxListingBytes) return text;
  const auto end = text.rfind('\n', kMaxListingBytes);
  return text.substr(0, end == std::string::npos ? kMaxListingBytes : end + 1);
}

std::string cap_note(bool truncated) {
  return truncated ? " (listing cut at " + std::to_string(kMaxListingBytes >> 20) + " MiB)" : "";
}

std::vector<std::string> split(const std::string& line) {
  std::istringstream words(line);
  std::vector<std::string> tokens;
  for (std::string word; words >> word;) tokens.push_back(word);
  return tokens;
}

std::string value_after(const std::vector<std::string>& tokens, const std::string& flag) {
  for (std::size_t i = 0; i + 1 < tokens.size(); ++i) {
    if (tokens[i] == flag) return tokens[i + 1];
  }
  return "";
}

// "cafe:1" and "cafe:0001" are the same class.
bool same_class(const std::string& a, const std::string& b) {
  auto parse = [](const std::string& id, unsigned long& major, unsigned long& minor) {
    const auto colon = id.find(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == id.size()) return false;
    char* end = nullptr;
    major = std::strtoul(id.c_str(), &end, 16);
    if (end != id.c_str() + colon) return false;
    minor = std::strtoul(id.c_str() + colon + 1, &end, 16);
    return end == id.c_str() + id.size();
  };
  unsigned long a_major = 0, a_minor = 0, b_major = 0, b_minor = 0;
  return parse(a, a_major, a_minor) && parse(b, b_major, b_minor) && a_major == b_major && a_minor == b_minor;
}

bool is_target_rule(const std::vector<std::string>& tokens, const SteeringTarget& target) {
  const std::string jump = value_after(tokens, "-j");
  if (target.kind == SteeringTarget::Kind::kClassify) {
    return jump == "CLASSIFY" && same_class(value_after(tokens, "--set-class"), target.class_id);
  }
  return jump == "NFQUEUE" && value_after(tokens, "--queue-num") == std::to_string(target.queue_number);
}

std::string target_name(const SteeringTarget& target) {
  return target.kind == SteeringTarget::Kind::kClassify ? "CLASSIFY " + target.class_id
                                                        : "NFQUEUE --queue-num " +
                                                              std::to_string(target.queue_number);
}

// "[12:3400]" -> 12
std::uint64_t packets_of(const std::string& counters) {
  if (counters.size() < 3 || counters.front() != '[') return 0;
  return std::strtoull(counters.c_str() + 1, nullptr, 10);
}

// The chains a plan installs per family, with the hook that jumps to each
// (read from the install batches themselves, so they cannot disagree).
std::vector<std::pair<int, std::pair<std::string, std::string>>> planned_chains(const SteeringPlan& plan) {
  std::vector<std::pair<int, std::pair<std::string, std::string>>> chains;
  for (const auto& batch : steering_install_batches(plan)) {
    std::istringstream lines(batch.text);
    for (std::string line; std::getline(lines, line);) {
      if (line.rfind(":", 0) != 0) continue;
      const std::string chain = line.substr(1, line.find(' ') - 1);
      chains.push_back({batch.version, {chain, chain == plan.egress_chain ? "POSTROUTING" : "PREROUTING"}});
    }
  }
  return chains;
}

StatusOr<std::string> save_mangle(CommandRunner& commands, const IptablesFamily& family, bool with_counters,
                                  bool* truncated) {
  std::vector<std::string> argv{family.save};
  if (with_counters) argv.push_back("-c");
  argv.insert(argv.end(), {"-t", "mangle"});
  auto saved = commands.run_checked(argv);
  if (!saved.ok()) return saved.status().with_context(std::string("reading the ") + family.mangle_label + " table");
  return bounded(saved->stdout_text, truncated);
}

std::uint64_t counter_packets(const nlohmann::json& expr) {
  const auto& counter = expr.at("counter");
  return counter.is_object() && counter.contains("packets") && counter["packets"].is_number_unsigned()
             ? counter["packets"].get<std::uint64_t>()
             : 0;
}

}  // namespace

ListedChain parse_listed_chain(const std::string& save_output, const std::string& chain,
                               const SteeringTarget& target) {
  ListedChain listed;
  std::istringstream lines(save_output);
  bool in_mangle = false;
  for (std::string line; std::getline(lines, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.rfind("*", 0) == 0) in_mangle = line == "*mangle";
    if (!in_mangle) continue;
    if (line.rfind(":", 0) == 0) {
      if (line.substr(1, line.find(' ') == std::string::npos ? std::string::npos : line.find(' ') - 1) == chain) {
        listed.exists = true;
      }
      continue;
    }
    auto tokens = split(line);
    std::string counters;
    if (!tokens.empty() && tokens[0].rfind("[", 0) == 0) {  // -c: "[pkts:bytes] -A ..."
      counters = tokens[0];
      tokens.erase(tokens.begin());
    }
    if (tokens.size() < 2 || tokens[0] != "-A") continue;
    if (tokens[1] == chain) {
      if (is_target_rule(tokens, target)) {
        ++listed.target_rules;
        listed.target_packets += packets_of(counters);
      }
    } else if (value_after(tokens, "-j") == chain || value_after(tokens, "-g") == chain) {
      listed.jumps_from.push_back(tokens[1]);
    }
  }
  return listed;
}

StatusOr<SteeringProof> read_back_steering(CommandRunner& commands, const SteeringPlan& plan) {
  SteeringProof proof;
  std::map<int, std::string> listings;
  std::map<int, bool> truncated;
  for (const auto& [version, chain_and_hook] : planned_chains(plan)) {
    const auto& [chain, hook] = chain_and_hook;
    const IptablesFamily& family = iptables_family(version);
    if (listings.count(version) == 0) {
      bool cut = false;
      CHAOS_ASSIGN_OR_RETURN(listings[version], save_mangle(commands, family, true, &cut));
      truncated[version] = cut;
    }
    const auto listed = parse_listed_chain(listings[version], chain, plan.target);
    const std::string where = std::string(family.mangle_label) + ": ";
    const std::string note = cap_note(truncated[version]);
    if (!listed.exists) return failed_precondition(where + "no chain " + chain + note);
    if (std::find(listed.jumps_from.begin(), listed.jumps_from.end(), hook) == listed.jumps_from.end()) {
      return failed_precondition(where + "no jump from " + hook + " to " + chain + note);
    }
    if (listed.target_rules == 0) {
      return failed_precondition(where + "no " + target_name(plan.target) + " rule in " + chain + note);
    }
    proof.packets_matched += listed.target_packets;
    proof.evidence += (proof.evidence.empty() ? "" : "; ") + where + chain + ": jump from " + hook + ", " +
                      std::to_string(listed.target_rules) + " " + target_name(plan.target) + " rule(s), " +
                      std::to_string(listed.target_packets) + " packets";
  }
  if (listings.empty()) return failed_precondition("iptables: the plan steers nothing (no chain to check)");
  return proof;
}

StatusOr<std::vector<std::string>> steering_leftovers(CommandRunner& commands, const std::string& egress_chain,
                                                      const std::string& ingress_chain) {
  std::vector<std::string> left;
  for (const auto& family : kIptablesFamilies) {
    CHAOS_ASSIGN_OR_RETURN(const auto listing, save_mangle(commands, family, false, nullptr));
    for (const auto& chain : {egress_chain, ingress_chain}) {
      const auto listed = parse_listed_chain(listing, chain, SteeringTarget{});
      if (listed.exists) left.push_back(std::string(family.mangle_label) + ": chain " + chain);
      for (const auto& from : listed.jumps_from) {
        left.push_back(std::string(family.mangle_label) + ": jump from " + from + " to " + chain);
      }
    }
  }
  return left;
}

StatusOr<DropTableProof> parse_drop_table(const std::string& json_text, const DropTablePlan& plan) {
  const std::string table = "nft table inet " + plan.table;
  const auto parsed = nlohmann::json::parse(bounded(json_text), nullptr, false);
  if (parsed.is_discarded() || !parsed.is_object() || !parsed.contains("nftables") ||
      !parsed["nftables"].is_array()) {
    return failed_precondition(table + ": `nft -j list table` did not print a ruleset");
  }
  std::map<std::string, std::string> hooks;  // chain -> hook
  struct Rules {
    int drops = 0;
    std::uint64_t matched = 0;
    std::uint64_t dropped = 0;
  };
  std::map<std::string, Rules> rules;
  bool table_seen = false;
  for (const auto& item : parsed["nftables"]) {
    if (!item.is_object()) continue;
    if (item.contains("table") && item["table"].value("name", "") == plan.table) table_seen = true;
    if (item.contains("chain") && item["chain"].is_object() && item["chain"].value("table", "") == plan.table) {
      hooks[item["chain"].value("name", "")] = item["chain"].value("hook", "");
    }
    if (!item.contains("rule") || !item["rule"].is_object()) continue;
    const auto& rule = item["rule"];
    if (rule.value("table", "") != plan.table || !rule.contains("expr") || !rule["expr"].is_array()) continue;
    std::vector<std::uint64_t> counters;
    bool drops = false;
    for (const auto& expr : rule["expr"]) {
      if (!expr.is_object()) continue;
      if (expr.contains("counter")) counters.push_back(counter_packets(expr));
      if (expr.contains("drop")) drops = true;
    }
    if (!drops) continue;
    auto& chain_rules = rules[rule.value("chain", "")];
    ++chain_rules.drops;
    if (!counters.empty()) {
      chain_rules.matched += counters.front();
      chain_rules.dropped += counters.back();
    }
  }
  if (!table_seen) return failed_precondition(table + " is not in the ruleset");
  DropTableProof proof;
  std::vector<std::pair<std::string, std::string>> wanted;
  if (plan.scope.egress) wanted.emplace_back("egress", "postrouting");
  if (plan.scope.ingress) wanted.emplace_back("ingress", "prerouting");
  for (const auto& [chain, hook] : wanted) {
    const auto found = hooks.find(chain);
    if (found == hooks.end()) return failed_precondition(table + ": no chain " + chain);
    if (found->second != hook) {
      return failed_precondition(table + ": chain " + chain + " is not on the " + hook + " hook");
    }
    const auto& chain_rules = rules[chain];
    if (chain_rules.drops == 0) return failed_precondition(table + ": no drop rule in chain " + chain);
    proof.packets_matched += chain_rules.matched;
    proof.packets_dropped += chain_rules.dropped;
    proof.evidence += (proof.evidence.empty() ? table + ": " : ", ") + chain + " on " + hook + " with " +
                      std::to_string(chain_rules.drops) + " drop rule(s)";
  }
  proof.evidence += ", " + std::to_string(proof.packets_matched) + " packets matched, " +
                    std::to_string(proof.packets_dropped) + " dropped";
  return proof;
}

StatusOr<DropTableProof> read_back_drop_table(CommandRunner& commands, const DropTablePlan& plan) {
  auto listed = commands.run({"nft", "-j", "list", "table", "inet", plan.table});
  if (!listed.ok()) return listed.status().with_context("reading nft table inet " + plan.table);
  if (listed->exit_code != 0) {
    std::string why = listed->stderr_text.substr(0, listed->stderr_text.find('\n'));
    return failed_precondition("nft table inet " + plan.table + " is not in the ruleset (" + why + ")");
  }
  return parse_drop_table(listed->stdout_text, plan);
}

StatusOr<bool> drop_table_listed(CommandRunner& commands, const std::string& table) {
  auto listed = commands.run_checked({"nft", "list", "tables"});
  if (!listed.ok()) return listed.status().with_context("listing nft tables");
  std::istringstream lines(bounded(listed->stdout_text));
  for (std::string line; std::getline(lines, line);) {
    if (split(line) == std::vector<std::string>{"table", "inet", table}) return true;
  }
  return false;
}

std::map<std::string, ListedQdiscTree> parse_qdisc_trees(const std::string& show_output,
                                                         const std::string& only_interface) {
  std::map<std::string, ListedQdiscTree> trees;
  ListedQdiscTree* stats_for = nullptr;
  std::istringstream lines(show_output);
  for (std::string line; std::getline(lines, line);) {
    const auto tokens = split(line);
    if (tokens.size() >= 7 && tokens[0] == "Sent" && tokens[4] == "pkt" && stats_for != nullptr) {
      stats_for->leaf_sent_packets = std::strtoull(tokens[3].c_str(), nullptr, 10);
      stats_for->leaf_dropped = std::strtoull(value_after(tokens, "(dropped").c_str(), nullptr, 10);
      stats_for->leaf_overlimits = std::strtoull(value_after(tokens, "overlimits").c_str(), nullptr, 10);
      stats_for = nullptr;
      continue;
    }
    if (tokens.empty() || tokens[0] != "qdisc") continue;
    stats_for = nullptr;
    if (tokens.size() < 4) continue;
    std::string interface = only_interface;
    std::size_t next = 3;
    if (tokens[3] == "dev" && tokens.size() > 5) {
      interface = tokens[4];
      next = 5;
    }
    if (interface.empty()) continue;
    if (tokens[next] == "root" && tokens[1] == "htb" && tokens[2] == kQdiscRootHandle) trees[interface].root = true;
    if (tokens[next] == "parent" && next + 1 < tokens.size() && same_class(tokens[next + 1], kQdiscClassId)) {
      auto& tree = trees[interface];
      tree.leaf = tokens[2];
      tree.leaf_kind = tokens[1];
      stats_for = &tree;
    }
  }
  return trees;
}

ListedQdiscTree parse_qdisc_listing(const std::string& show_output) {
  auto trees = parse_qdisc_trees(show_output, "this");
  return trees["this"];
}

StatusOr<QdiscProof> read_back_qdisc_tree(CommandRunner& commands, const std::string& interface,
                                          const std::string& leaf_handle) {
  auto shown = commands.run({"tc", "-s", "qdisc", "show", "dev", interface});
  if (!shown.ok()) return shown.status().with_context("reading the qdiscs of " + interface);
  if (shown->exit_code != 0) return failed_precondition("tc: interface " + interface + " is gone");
  bool truncated = false;
  const auto tree = parse_qdisc_listing(bounded(shown->stdout_text, &truncated));
  const std::string where = "tc qdisc on " + interface + ": ";
  if (!tree.root) return failed_precondition(where + "no htb " + kQdiscRootHandle + " root" + cap_note(truncated));
  if (tree.leaf != leaf_handle) {
    return failed_precondition(where + "no leaf " + leaf_handle + " under " + kQdiscClassId +
                               (tree.leaf.empty() ? "" : " (" + tree.leaf + " is there)") + cap_note(truncated));
  }
  return QdiscProof{tree.leaf_sent_packets, tree.leaf_dropped,
                    where + "htb " + kQdiscRootHandle + " root, " + tree.leaf_kind + " " + tree.leaf + " under " +
                        kQdiscClassId + ": " + std::to_string(tree.leaf_sent_packets) + " packets sent, " +
                        std::to_string(tree.leaf_overlimits) + " over the rate, " +
                        std::to_string(tree.leaf_dropped) + " dropped"};
}

StatusOr<std::vector<std::string>> qdisc_leftovers(CommandRunner& commands, const std::string& interface,
                                                   const std::string& leaf_handle) {
  std::vector<std::string> argv{"tc", "qdisc", "show"};
  if (!interface.empty()) argv.insert(argv.end(), {"dev", interface});
  auto shown = commands.run(argv);
  if (!shown.ok()) return shown.status().with_context("reading qdiscs");
  std::vector<std::string> left;
  if (shown->exit_code != 0) {
    if (!interface.empty()) return left;  // the interface is gone, and whatever was on it
    return internal_error("`tc qdisc show` exited with " + std::to_string(shown->exit_code));
  }
  for (const auto& [name, tree] : parse_qdisc_trees(bounded(shown->stdout_text), interface)) {
    // A tree of ours with another fault's leaf is that fault's.
    // Without an interface, a root without a leaf cannot be told apart
    // from another fault's half-built tree: only our leaf counts then.
    if (tree.leaf == leaf_handle || (tree.root && tree.leaf.empty() && !interface.empty())) {
      left.push_back("tc qdisc on " + name + ": " +
                     (tree.leaf.empty() ? std::string("htb ") + kQdiscRootHandle + " root without a leaf"
                                        : "leaf " + tree.leaf + " under " + kQdiscClassId));
    }
  }
  return left;
}

}  // namespace chaos::agent::network
