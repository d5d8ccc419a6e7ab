#include "tests/unit/agent/faults/network/fake_netfilter.h"

#include <algorithm>
#include <sstream>

#include <nlohmann/json.hpp>

namespace chaos::agent::network::testing {

namespace {

const std::vector<std::string> kBuiltinChains = {"PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"};
const std::set<std::string> kTargets = {"RETURN", "ACCEPT", "DROP", "NFQUEUE", "CLASSIFY", "MARK"};

bool is_builtin(const std::string& chain) {
  return std::find(kBuiltinChains.begin(), kBuiltinChains.end(), chain) != kBuiltinChains.end();
}

std::vector<std::string> split(const std::string& line) {
  std::istringstream words(line);
  std::vector<std::string> tokens;
  for (std::string word; words >> word;) tokens.push_back(word);
  return tokens;
}

std::string join(const std::vector<std::string>& tokens, std::size_t from) {
  std::string text;
  for (std::size_t i = from; i < tokens.size(); ++i) text += (text.empty() ? "" : " ") + tokens[i];
  return text;
}

std::string jump_target(const std::vector<std::string>& tokens) {
  for (std::size_t i = 0; i + 1 < tokens.size(); ++i) {
    if (tokens[i] == "-j" || tokens[i] == "-g") return tokens[i + 1];
  }
  return "";
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream stream(text);
  for (std::string line; std::getline(stream, line);) lines.push_back(line);
  return lines;
}

CommandResult failure(const std::string& message) { return CommandResult{1, "", message + "\n"}; }

int family_index(const std::string& family) { return family == "ip6" ? 1 : 0; }

}  // namespace

FakeNetfilter::FakeNetfilter(chaos::testing::FakeCommandRunner& commands, std::vector<std::string> interfaces)
    : interfaces_(interfaces.begin(), interfaces.end()) {
  using Argv = std::vector<std::string>;
  auto with_intercept = [this](auto handler) {
    return [this, handler](const Argv& argv, const std::string& text) -> StatusOr<CommandResult> {
      if (auto intercepted = intercept(argv, text)) return *intercepted;
      return handler(argv, text);
    };
  };
  auto with_counters = [](const Argv& argv) { return std::find(argv.begin(), argv.end(), "-c") != argv.end(); };
  commands.on_input("iptables-save", with_intercept([this, with_counters](const Argv& argv, const std::string&) {
                      return iptables_save(4, with_counters(argv));
                    }));
  commands.on_input("ip6tables-save", with_intercept([this, with_counters](const Argv& argv, const std::string&) {
                      return iptables_save(6, with_counters(argv));
                    }));
  commands.on_input("iptables-restore", with_intercept([this](const Argv&, const std::string& text) {
                      return iptables_restore(4, text);
                    }));
  commands.on_input("ip6tables-restore", with_intercept([this](const Argv&, const std::string& text) {
                      return iptables_restore(6, text);
                    }));
  commands.on_input("nft ", with_intercept([this](const Argv& argv, const std::string& text) {
                      return nft(argv, text);
                    }));
  commands.on_input("tc ", with_intercept([this](const Argv& argv, const std::string& text) {
                      return tc(argv, text);
                    }));
}

std::optional<CommandResult> FakeNetfilter::intercept(const std::vector<std::string>& argv,
                                                      const std::string& text) {
  const std::string seen = describe_argv(argv) + "\n" + text;
  std::unique_lock lock(gate_mutex_);
  if (!gate_.empty() && seen.find(gate_) != std::string::npos) {
    ++waiting_at_gate_;
    gate_changed_.notify_all();
    gate_changed_.wait(lock, [this] { return gate_.empty(); });
    --waiting_at_gate_;
  }
  for (const auto& needle : failing_) {
    if (seen.find(needle) != std::string::npos) return failure("fake kernel: Operation not permitted");
  }
  return std::nullopt;
}

void FakeNetfilter::fail_commands_containing(std::string needle) {
  std::lock_guard lock(gate_mutex_);
  failing_.push_back(std::move(needle));
}

void FakeNetfilter::clear_failures() {
  std::lock_guard lock(gate_mutex_);
  failing_.clear();
}

void FakeNetfilter::close_gate(std::string needle) {
  std::lock_guard lock(gate_mutex_);
  gate_ = std::move(needle);
}

void FakeNetfilter::open_gate() {
  std::lock_guard lock(gate_mutex_);
  gate_.clear();
  gate_changed_.notify_all();
}

bool FakeNetfilter::wait_until_gate_holds_a_command(std::chrono::milliseconds deadline) {
  std::unique_lock lock(gate_mutex_);
  return gate_changed_.wait_for(lock, deadline, [this] { return waiting_at_gate_ > 0; });
}

std::set<std::string> FakeNetfilter::chains(int version) const {
  std::lock_guard lock(mutex_);
  std::set<std::string> names;
  for (const auto& [name, rules] : mangle_[version == 6 ? 1 : 0].chains) {
    if (!is_builtin(name)) names.insert(name);
  }
  return names;
}

std::vector<std::string> FakeNetfilter::rules(int version, const std::string& chain) const {
  std::lock_guard lock(mutex_);
  const auto& chains = mangle_[version == 6 ? 1 : 0].chains;
  const auto found = chains.find(chain);
  return found == chains.end() ? std::vector<std::string>{} : found->second;
}

std::set<std::string> FakeNetfilter::tables() const {
  std::lock_guard lock(mutex_);
  std::set<std::string> names;
  for (const auto& [name, body] : tables_) names.insert(name);
  if (mangle_[0].exists) names.insert("ip mangle");
  if (mangle_[1].exists) names.insert("ip6 mangle");
  return names;
}

std::map<std::string, std::string> FakeNetfilter::qdisc_trees() const {
  std::lock_guard lock(mutex_);
  std::map<std::string, std::string> trees;
  for (const auto& [interface, tree] : trees_) {
    if (tree.root) trees[interface] = tree.leaf;
  }
  return trees;
}

bool FakeNetfilter::clean() const {
  const std::string state = describe();
  return state.find("CHAOS-") == std::string::npos && state.find("chaos_") == std::string::npos &&
         state.find("cafe:") == std::string::npos;
}

std::string FakeNetfilter::describe() const {
  std::lock_guard lock(mutex_);
  std::string text;
  for (int i = 0; i < 2; ++i) {
    for (const auto& [chain, rules] : mangle_[i].chains) {
      text += (i == 0 ? "ipv4 " : "ipv6 ") + chain + ":";
      for (const auto& rule : rules) text += " [" + rule + "]";
      text += "\n";
    }
  }
  for (const auto& [name, body] : tables_) text += "table " + name + "\n";
  for (const auto& [interface, tree] : trees_) {
    if (tree.root) text += "qdisc htb cafe: on " + interface + " leaf " + tree.leaf + "\n";
  }
  return text;
}

void FakeNetfilter::add_qdisc_tree(const std::string& interface, const std::string& leaf_handle) {
  std::lock_guard lock(mutex_);
  interfaces_.insert(interface);
  trees_[interface] = Tree{true, leaf_handle};
}

void FakeNetfilter::add_table(const std::string& family_and_name) {
  std::lock_guard lock(mutex_);
  tables_[family_and_name] = "";
}

void FakeNetfilter::set_chain_packets(int version, const std::string& chain, std::uint64_t packets) {
  std::lock_guard lock(mutex_);
  chain_packets_[{version == 6 ? 6 : 4, chain}] = packets;
}

void FakeNetfilter::set_table_packets(const std::string& family_and_name, std::uint64_t packets) {
  std::lock_guard lock(mutex_);
  table_packets_[family_and_name] = packets;
}

void FakeNetfilter::set_leaf_sent(const std::string& interface, std::uint64_t packets) {
  std::lock_guard lock(mutex_);
  leaf_sent_[interface] = packets;
}

void FakeNetfilter::erase_rule(int version, const std::string& chain, std::size_t index) {
  std::lock_guard lock(mutex_);
  auto& rules = mangle_[version == 6 ? 1 : 0].chains[chain];
  if (index < rules.size()) rules.erase(rules.begin() + static_cast<std::ptrdiff_t>(index));
}

StatusOr<CommandResult> FakeNetfilter::iptables_save(int version, bool with_counters) {
  std::lock_guard lock(mutex_);
  const Mangle& mangle = mangle_[version == 6 ? 1 : 0];
  std::string out = "# Generated by fake\n*mangle\n";
  for (const auto& chain : kBuiltinChains) out += ":" + chain + " ACCEPT [0:0]\n";
  for (const auto& [name, rules] : mangle.chains) {
    if (!is_builtin(name)) out += ":" + name + " - [0:0]\n";
  }
  auto prefix = [&](const std::string& chain) -> std::string {
    if (!with_counters) return "";
    const auto found = chain_packets_.find({version == 6 ? 6 : 4, chain});
    const std::uint64_t packets = found == chain_packets_.end() ? 0 : found->second;
    return "[" + std::to_string(packets) + ":" + std::to_string(packets * 100) + "] ";
  };
  for (const auto& chain : kBuiltinChains) {
    const auto found = mangle.chains.find(chain);
    if (found == mangle.chains.end()) continue;
    for (const auto& rule : found->second) out += prefix(chain) + "-A " + chain + " " + rule + "\n";
  }
  for (const auto& [name, rules] : mangle.chains) {
    if (is_builtin(name)) continue;
    for (const auto& rule : rules) out += prefix(name) + "-A " + name + " " + rule + "\n";
  }
  return CommandResult{0, out + "COMMIT\n", ""};
}

StatusOr<CommandResult> FakeNetfilter::iptables_restore(int version, const std::string& text) {
  std::lock_guard lock(mutex_);
  Mangle mangle = mangle_[version == 6 ? 1 : 0];
  bool committed = false;
  int number = 0;
  for (const auto& line : lines_of(text)) {
    ++number;
    const std::string where = "iptables-restore: line " + std::to_string(number) + " failed: ";
    const auto tokens = split(line);
    if (tokens.empty() || tokens[0][0] == '#') continue;
    if (tokens[0] == "*mangle") continue;
    if (tokens[0] == "COMMIT") {
      committed = true;
      continue;
    }
    if (tokens[0][0] == ':') {
      const std::string name = tokens[0].substr(1);
      if (!is_builtin(name)) mangle.chains[name].clear();  // --noflush: create or empty
      mangle.exists = true;
      continue;
    }
    if (tokens.size() < 2) return failure(where + "bad line");
    const std::string& command = tokens[0];
    const std::string& chain = tokens[1];
    const bool builtin = is_builtin(chain);
    auto found = mangle.chains.find(chain);
    if (found == mangle.chains.end() && !builtin) return failure(where + "No chain/target/match by that name.");
    if (command == "-A" || command == "-I") {
      const std::string target = jump_target(tokens);
      if (!target.empty() && kTargets.count(target) == 0 && mangle.chains.count(target) == 0) {
        return failure("Chain '" + target + "' does not exist\n" + where + "No chain/target/match by that name.");
      }
      mangle.exists = true;
      if (builtin) mangle.base_chains.insert(chain);
      auto& rules = mangle.chains[chain];
      if (command == "-A") {
        rules.push_back(join(tokens, 2));
      } else {
        rules.insert(rules.begin(), join(tokens, 3));  // "-I CHAIN 1 ..."
      }
    } else if (command == "-D") {
      if (found == mangle.chains.end()) return failure(where + "Bad rule (does a matching rule exist in that chain?).");
      auto& rules = found->second;
      const auto rule = std::find(rules.begin(), rules.end(), join(tokens, 2));
      if (rule == rules.end()) return failure(where + "Bad rule (does a matching rule exist in that chain?).");
      rules.erase(rule);
    } else if (command == "-F") {
      if (found != mangle.chains.end()) found->second.clear();
    } else if (command == "-X") {
      if (builtin || !found->second.empty()) return failure(where + "Directory not empty.");
      for (const auto& [other, rules] : mangle.chains) {
        for (const auto& rule : rules) {
          if (jump_target(split(rule)) == chain) return failure(where + "Too many links.");
        }
      }
      mangle.chains.erase(found);
    } else {
      return failure(where + "unknown command " + command);
    }
  }
  if (committed) mangle_[version == 6 ? 1 : 0] = mangle;
  return CommandResult{};
}

std::string FakeNetfilter::mangle_json(int version) const {
  const Mangle& mangle = mangle_[version == 6 ? 1 : 0];
  const std::string family = version == 6 ? "ip6" : "ip";
  nlohmann::json items = nlohmann::json::array();
  items.push_back({{"metainfo", {{"version", "1.0.6"}}}});
  items.push_back({{"table", {{"family", family}, {"name", "mangle"}}}});
  for (const auto& base : mangle.base_chains) {
    std::string hook = base;
    std::transform(hook.begin(), hook.end(), hook.begin(), [](unsigned char c) { return std::tolower(c); });
    items.push_back(
        {{"chain", {{"family", family}, {"table", "mangle"}, {"name", base}, {"hook", hook}, {"policy", "accept"}}}});
  }
  for (const auto& [name, rules] : mangle.chains) {
    if (!is_builtin(name)) items.push_back({{"chain", {{"family", family}, {"table", "mangle"}, {"name", name}}}});
  }
  for (const auto& [name, rules] : mangle.chains) {
    for (std::size_t i = 0; i < rules.size(); ++i) {
      items.push_back({{"rule", {{"family", family}, {"table", "mangle"}, {"chain", name}}}});
    }
  }
  return nlohmann::json{{"nftables", items}}.dump();
}

// Enough of nft's JSON for the drop tables: chains with their hook, rules
// with a counter object per "counter" and their verdict.
std::string FakeNetfilter::table_json(const std::string& family_and_name) const {
  const auto space = family_and_name.find(' ');
  const std::string family = family_and_name.substr(0, space);
  const std::string name = family_and_name.substr(space + 1);
  const auto counted = table_packets_.find(family_and_name);
  const std::uint64_t packets = counted == table_packets_.end() ? 0 : counted->second;
  nlohmann::json items = nlohmann::json::array();
  items.push_back({{"metainfo", {{"version", "1.0.6"}}}});
  items.push_back({{"table", {{"family", family}, {"name", name}}}});
  std::string chain;
  for (const auto& line : lines_of(tables_.at(family_and_name))) {
    const auto tokens = split(line);
    if (tokens.empty() || tokens[0] == "}") continue;
    if (tokens[0] == "chain" && tokens.size() >= 2) {
      chain = tokens[1];
      continue;
    }
    if (tokens[0] == "type") {
      items.push_back({{"chain", {{"family", family}, {"table", name}, {"name", chain}, {"hook", tokens[3]}}}});
      continue;
    }
    nlohmann::json expr = nlohmann::json::array();
    for (const auto& token : tokens) {
      if (token == "counter") expr.push_back({{"counter", {{"packets", packets}, {"bytes", packets * 100}}}});
    }
    if (tokens.back() == "drop" || tokens.back() == "accept") expr.push_back({{tokens.back(), nullptr}});
    items.push_back({{"rule", {{"family", family}, {"table", name}, {"chain", chain}, {"expr", expr}}}});
  }
  return nlohmann::json{{"nftables", items}}.dump();
}

StatusOr<CommandResult> FakeNetfilter::nft(const std::vector<std::string>& argv, const std::string& text) {
  std::lock_guard lock(mutex_);
  const CommandResult missing = failure("Error: Could not process rule: No such file or directory");
  if (argv.size() == 3 && argv[1] == "list" && argv[2] == "tables") {
    std::string out;
    for (const auto& name : std::set<std::string>{"ip mangle", "ip6 mangle"}) {
      if (mangle_[family_index(name.substr(0, name.find(' ')))].exists) out += "table " + name + "\n";
    }
    for (const auto& [name, body] : tables_) out += "table " + name + "\n";
    return CommandResult{0, out, ""};
  }
  if (argv.size() == 6 && argv[1] == "-j" && argv[2] == "list" && argv[3] == "table" && argv[5] != "mangle") {
    if (tables_.count(argv[4] + " " + argv[5]) == 0) return missing;
    return CommandResult{0, table_json(argv[4] + " " + argv[5]), ""};
  }
  if (argv.size() == 5 && argv[1] == "list" && argv[2] == "table") {
    const auto found = tables_.find(argv[3] + " " + argv[4]);
    if (found == tables_.end()) return missing;
    return CommandResult{0, "table " + found->first + " {\n" + found->second + "}\n", ""};
  }
  if (argv.size() == 6 && argv[1] == "-j" && argv[2] == "list" && argv[5] == "mangle") {
    const int version = argv[4] == "ip6" ? 6 : 4;
    if (!mangle_[version == 6 ? 1 : 0].exists) return missing;
    return CommandResult{0, mangle_json(version), ""};
  }
  if (!(argv.size() == 3 && argv[1] == "-f" && argv[2] == "-")) return failure("fake nft: unexpected command");
  auto tables = tables_;
  Mangle mangle[2] = {mangle_[0], mangle_[1]};
  const auto lines = lines_of(text);
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const auto tokens = split(lines[i]);
    if (tokens.empty()) continue;
    if (tokens.size() == 4 && tokens[0] == "add" && tokens[1] == "table") {
      tables.emplace(tokens[2] + " " + tokens[3], "");
    } else if (tokens.size() == 4 && tokens[0] == "delete" && tokens[1] == "table") {
      if (tokens[3] == "mangle" && (tokens[2] == "ip" || tokens[2] == "ip6")) {
        auto& family = mangle[family_index(tokens[2])];
        if (!family.exists) return missing;
        family = Mangle{};
      } else if (tables.erase(tokens[2] + " " + tokens[3]) == 0) {
        return missing;
      }
    } else if (tokens.size() == 5 && tokens[0] == "delete" && tokens[1] == "chain" && tokens[3] == "mangle") {
      auto& family = mangle[family_index(tokens[2])];
      if (family.base_chains.erase(tokens[4]) == 0) return missing;
      family.chains.erase(tokens[4]);
    } else if (tokens.size() == 4 && tokens[0] == "table" && tokens[3] == "{") {
      std::string body;
      int depth = 1;
      for (++i; i < lines.size() && depth > 0; ++i) {
        depth += static_cast<int>(std::count(lines[i].begin(), lines[i].end(), '{'));
        depth -= static_cast<int>(std::count(lines[i].begin(), lines[i].end(), '}'));
        if (depth > 0) body += lines[i] + "\n";
      }
      --i;
      if (depth != 0) return failure("Error: syntax error, unexpected end of file");
      tables[tokens[1] + " " + tokens[2]] += body;
    } else {
      return failure("Error: syntax error in fake nft: " + lines[i]);
    }
  }
  tables_ = std::move(tables);
  mangle_[0] = mangle[0];
  mangle_[1] = mangle[1];
  return CommandResult{};
}

StatusOr<CommandResult> FakeNetfilter::tc(const std::vector<std::string>& argv, const std::string& text) {
  std::lock_guard lock(mutex_);
  bool stats = false;
  std::vector<std::string> args = argv;
  if (args.size() > 1 && args[1] == "-s") {
    stats = true;
    args.erase(args.begin() + 1);
  }
  auto show = [this, stats](const std::string& interface, bool with_dev, bool root_only) {
    const std::string dev = with_dev ? " dev " + interface : "";
    const auto found = trees_.find(interface);
    if (found == trees_.end() || !found->second.root) return "qdisc noqueue 0:" + dev + " root refcnt 2\n";
    auto sent = [&](std::uint64_t packets) {
      return stats ? " Sent " + std::to_string(packets * 100) + " bytes " + std::to_string(packets) +
                         " pkt (dropped 0, overlimits 0 requeues 0) \n backlog 0b 0p requeues 0\n"
                   : std::string();
    };
    std::string out = "qdisc htb cafe:" + dev + " root refcnt 2 r2q 10 default 0\n" + sent(0);
    if (!root_only && !found->second.leaf.empty()) {
      const auto leaf_sent = leaf_sent_.find(interface);
      out += "qdisc tbf " + found->second.leaf + dev + " parent cafe:1 rate 8Mbit burst 10000b lat 50ms\n" +
             sent(leaf_sent == leaf_sent_.end() ? 0 : leaf_sent->second);
    }
    return out;
  };
  if (args.size() >= 3 && args[1] == "qdisc" && args[2] == "show") {
    if (args.size() == 3) {
      std::string out;
      for (const auto& interface : interfaces_) out += show(interface, true, false);
      return CommandResult{0, out, ""};
    }
    if (interfaces_.count(args[4]) == 0) return failure("Cannot find device \"" + args[4] + "\"");
    return CommandResult{0, show(args[4], false, args.size() == 6 && args[5] == "root"), ""};
  }
  if (argv.size() == 6 && argv[1] == "qdisc" && argv[2] == "del") {
    auto found = trees_.find(argv[4]);
    if (found == trees_.end() || !found->second.root) return failure("Error: Cannot delete qdisc with handle of zero.");
    trees_.erase(found);
    return CommandResult{};
  }
  if (!(argv.size() == 3 && argv[1] == "-batch" && argv[2] == "-")) return failure("fake tc: unexpected command");
  int number = 0;
  for (const auto& line : lines_of(text)) {
    ++number;
    const auto tokens = split(line);
    if (tokens.empty()) continue;
    const std::string failed = "Command failed -:" + std::to_string(number);
    if (tokens.size() < 6 || tokens[2] != "dev" || interfaces_.count(tokens[3]) == 0) {
      return failure("Cannot find device\n" + failed);
    }
    Tree& tree = trees_[tokens[3]];
    if (tokens[0] == "qdisc" && tokens[4] == "root") {
      if (tree.root) return failure("Error: Exclusivity flag on, cannot modify.\n" + failed);
      tree.root = true;
    } else if (tokens[0] == "class") {
      if (!tree.root) return failure("Error: Specified qdisc not found.\n" + failed);
    } else if (tokens[0] == "qdisc" && tokens[4] == "parent" && tokens.size() > 7) {
      if (!tree.root || !tree.leaf.empty()) return failure("Error: Exclusivity flag on, cannot modify.\n" + failed);
      tree.leaf = tokens[7];
    } else {
      return failure("fake tc: unexpected line\n" + failed);
    }
  }
  return CommandResult{};
}

}  // namespace chaos::agent::network::testing
