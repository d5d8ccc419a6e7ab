#include "lab/testbed/node_state_snapshot.h"

#include <algorithm>
#include <fstream>
#include <future>
#include <regex>
#include <sstream>

#include "common/proc_reader.h"

namespace chaos::testing {

namespace {

struct Section {
  std::string title;
  std::vector<std::string> argv;
  // False for commands whose exit code says nothing about the state (e.g.
  // `tc filter show ... ingress` on a link without an ingress qdisc).
  bool must_succeed = true;
};

std::vector<std::string> in_netns(const std::string& netns, std::vector<std::string> argv) {
  std::vector<std::string> full = {"ip", "netns", "exec", netns};
  full.insert(full.end(), argv.begin(), argv.end());
  return full;
}

// "2: cntab123@if3: <BROADCAST,..." -> "cntab123".
std::vector<std::string> link_names(const std::string& ip_o_link_output) {
  std::vector<std::string> names;
  std::istringstream lines(ip_o_link_output);
  for (std::string line; std::getline(lines, line);) {
    const auto first = line.find(": ");
    if (first == std::string::npos) continue;
    const auto end = line.find(':', first + 2);
    if (end == std::string::npos) continue;
    std::string name = line.substr(first + 2, end - first - 2);
    name = name.substr(0, name.find('@'));
    if (!name.empty()) names.push_back(name);
  }
  std::sort(names.begin(), names.end());
  return names;
}

StatusOr<CommandResult> run_section(CommandRunner& commands, const Section& section) {
  auto result = commands.run(section.argv);
  if (!result.ok()) return result.status().with_context("node state: " + section.title);
  if (section.must_succeed && result->exit_code != 0) {
    return internal_error("node state: " + describe_argv(section.argv) + " exited " +
                          std::to_string(result->exit_code) + ": " + result->stderr_text);
  }
  return result;
}

// Longest common subsequence table walk: the lines of `a` not in the LCS are
// "-", those of `b` are "+". Sections are a few hundred lines at most.
std::vector<std::string> line_diff(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  const std::size_t n = a.size();
  const std::size_t m = b.size();
  std::vector<std::vector<std::size_t>> lcs(n + 1, std::vector<std::size_t>(m + 1, 0));
  for (std::size_t i = n; i-- > 0;) {
    for (std::size_t j = m; j-- > 0;) {
      lcs[i][j] = a[i] == b[j] ? lcs[i + 1][j + 1] + 1 : std::max(lcs[i + 1][j], lcs[i][j + 1]);
    }
  }
  std::vector<std::string> out;
  std::size_t i = 0;
  std::size_t j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] == b[j]) {
      ++i;
      ++j;
    } else if (i < n && (j == m || lcs[i + 1][j] >= lcs[i][j + 1])) {
      out.push_back("- " + a[i++]);  // removals first, as diff(1) shows a changed line
    } else {
      out.push_back("+ " + b[j++]);
    }
  }
  return out;
}

}  // namespace

std::vector<std::string> normalise_state_text(const std::string& raw_text) {
  // nft: "counter packets 12 bytes 840"; tc: "direct_packets_stat 3",
  // "refcnt 2"; iptables-save: ":OUTPUT ACCEPT [12:840]" and "[12:840] -A ...".
  static const std::regex nft_counter("packets [0-9]+ bytes [0-9]+");
  static const std::regex chain_counter("\\[[0-9]+:[0-9]+\\]");
  static const std::regex tc_stat("(direct_packets_stat|refcnt) [0-9]+");
  std::vector<std::string> lines;
  std::istringstream in(raw_text);
  for (std::string line; std::getline(in, line);) {
    while (!line.empty() && (line.back() == ' ' || line.back() == '\t' || line.back() == '\r')) line.pop_back();
    if (line.empty()) continue;
    // iptables-save banners carry the tool version and a timestamp.
    if (line.rfind("# ", 0) == 0) continue;
    line = std::regex_replace(line, nft_counter, "packets _ bytes _");
    line = std::regex_replace(line, chain_counter, "[_:_]");
    line = std::regex_replace(line, tc_stat, "$1 _");
    lines.push_back(line);
  }
  return lines;
}

void NodeStateSnapshot::add_section(const std::string& title, const std::string& raw_text) {
  sections_[title] = normalise_state_text(raw_text);
}

StatusOr<NodeStateSnapshot> NodeStateSnapshot::capture(CommandRunner& commands, const NodeScope& scope) {
  if (scope.netns.empty()) return invalid_argument("node state: no network namespace given");
  const std::string& ns = scope.netns;
  NodeStateSnapshot snapshot;

  CHAOS_ASSIGN_OR_RETURN(CommandResult links,
                         run_section(commands, {"links", {"ip", "-n", ns, "-o", "link", "show"}}));
  const std::vector<std::string> names = link_names(links.stdout_text);
  std::string link_list;
  for (const auto& name : names) link_list += name + "\n";
  snapshot.add_section("links (ip -o link show)", link_list);

  std::vector<Section> sections = {
      // --stateless leaves counters out; the normalisation catches the rest.
      {"nft list ruleset", in_netns(ns, {"nft", "--stateless", "list", "ruleset"})},
      {"iptables-save", in_netns(ns, {"iptables-save"})},
      {"ip6tables-save", in_netns(ns, {"ip6tables-save"})},
      {"tc qdisc show", {"tc", "-n", ns, "qdisc", "show"}},
      {"ip rule", {"ip", "-n", ns, "rule", "show"}},
      {"ip -6 rule", {"ip", "-n", ns, "-6", "rule", "show"}},
      // As a process in the namespace sees it: `ip netns exec` bind-mounts
      // /etc/netns/NS/resolv.conf over it when that file exists.
      {"/etc/resolv.conf", in_netns(ns, {"cat", "/etc/resolv.conf"})},
  };
  for (const auto& name : names) {
    sections.push_back({"tc class show dev " + name, {"tc", "-n", ns, "class", "show", "dev", name}});
    sections.push_back({"tc filter show dev " + name, {"tc", "-n", ns, "filter", "show", "dev", name}, false});
    sections.push_back(
        {"tc filter show dev " + name + " ingress", {"tc", "-n", ns, "filter", "show", "dev", name, "ingress"}, false});
  }
  // Concurrently: a snapshot is taken after every crash of the crash tests,
  // and two dozen tools one after the other take most of a second.
  std::vector<std::future<StatusOr<CommandResult>>> results;
  for (const auto& section : sections) {
    results.push_back(std::async(std::launch::async, [&commands, &section] { return run_section(commands, section); }));
  }
  Status first_error;
  for (std::size_t i = 0; i < sections.size(); ++i) {
    auto result = results[i].get();
    if (!result.ok()) {
      if (first_error.ok()) first_error = result.status();
      continue;
    }
    snapshot.add_section(sections[i].title, result->stdout_text);
  }
  if (!first_error.ok()) return first_error;
  for (pid_t pid : scope.processes) {
    snapshot.add_section("process " + std::to_string(pid), process_run_state(pid));
    // A fault that moves a process into a cgroup of its own (disk.throttle,
    // placed stress) must put it back.
    std::ifstream cgroups("/proc/" + std::to_string(pid) + "/cgroup");
    std::stringstream text;
    text << cgroups.rdbuf();
    snapshot.add_section("process " + std::to_string(pid) + " cgroups", text.str());
  }
  return snapshot;
}

std::string diff_node_states(const NodeStateSnapshot& baseline, const NodeStateSnapshot& now) {
  std::vector<std::string> titles;
  for (const auto& [title, lines] : baseline.sections()) titles.push_back(title);
  for (const auto& [title, lines] : now.sections()) {
    if (baseline.sections().count(title) == 0) titles.push_back(title);
  }
  static const std::vector<std::string> kNoLines;
  auto lines_of = [](const NodeStateSnapshot& snapshot, const std::string& title) -> const std::vector<std::string>& {
    const auto found = snapshot.sections().find(title);
    return found == snapshot.sections().end() ? kNoLines : found->second;
  };
  std::string report;
  for (const auto& title : titles) {
    const auto& before = lines_of(baseline, title);
    const auto& after = lines_of(now, title);
    if (before == after) continue;
    report += title + ":\n";
    for (const auto& line : line_diff(before, after)) report += "  " + line + "\n";
  }
  return report;
}

namespace {

// FROZEN, FREEZING or THAWED from the v1 freezer of the process's cgroup;
// "" without a freezer line (a frozen task shows as D, not T, in /proc).
std::string freezer_state_of(pid_t pid) {
  std::ifstream cgroups("/proc/" + std::to_string(pid) + "/cgroup");
  for (std::string line; std::getline(cgroups, line);) {
    const auto first = line.find(':');
    const auto second = line.find(':', first + 1);
    if (first == std::string::npos || second == std::string::npos) continue;
    if (line.substr(first + 1, second - first - 1) != "freezer") continue;
    std::ifstream state("/sys/fs/cgroup/freezer" + line.substr(second + 1) + "/freezer.state");
    std::string value;
    state >> value;
    return value;
  }
  return "";
}

}  // namespace

std::string process_run_state(pid_t pid) {
  const auto stat = ProcReader().stat(pid);
  if (!stat || stat->dead()) return "gone";
  if (stat->state == 'T' || stat->state == 't') return "stopped";
  const std::string freezer = freezer_state_of(pid);
  if (freezer == "FROZEN" || freezer == "FREEZING") return "frozen";
  return "running";
}

}  // namespace chaos::testing
