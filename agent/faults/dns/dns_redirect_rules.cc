#include "agent/faults/dns/dns_redirect_rules.h"

#include <sys/socket.h>

#include <cctype>
#include <cstdio>
#include <sstream>

namespace chaos::agent::dns {

namespace {

constexpr std::size_t kMaxTableNameLength = 64;
// Our table is a dozen lines; a listing far larger is not ours to parse.
constexpr std::size_t kMaxListingBytes = 64 * 1024;

std::string family_match(const RedirectRules& rules, int family) {
  if (family == AF_INET) return rules.loopback_destinations_only ? "ip daddr 127.0.0.0/8" : "meta nfproto ipv4";
  return rules.loopback_destinations_only ? "ip6 daddr ::1" : "meta nfproto ipv6";
}

std::string hex_mark(std::uint32_t mark) {
  char text[16];
  std::snprintf(text, sizeof text, "0x%08x", mark);
  return text;
}

std::string redirect_lines(const std::string& family_match, std::uint16_t port) {
  const std::string target = " redirect to :" + std::to_string(port) + "\n";
  return "    " + family_match + " udp dport 53" + target +  //
         "    " + family_match + " tcp dport 53" + target;
}

}  // namespace

std::string redirect_table_name(const std::string& fault_id) {
  std::string name = "chaos_dns_";
  for (char c : fault_id) {
    if (name.size() >= kMaxTableNameLength) break;
    name += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  }
  return name;
}

std::string render_redirect_ruleset(const RedirectRules& rules) {
  std::string script = "table inet " + rules.table + " {\n";
  // priority -100 (dstnat): the usual place for DNAT/REDIRECT on output.
  script += "  chain output {\n    type nat hook output priority -100; policy accept;\n";
  script += "    meta mark " + hex_mark(rules.exempt_mark) + " return\n";
  script += redirect_lines(family_match(rules, AF_INET), rules.stub_port);
  if (rules.include_ipv6) script += redirect_lines(family_match(rules, AF_INET6), rules.stub_port);
  script += "  }\n}\n";
  return script;
}

namespace {

// nft 1.0.6 has no "destroy": adding the (possibly existing) table first
// makes the delete succeed either way, inside the same transaction.
std::string drop_table_lines(const std::string& table) {
  return "add table inet " + table + "\ndelete table inet " + table + "\n";
}

Status run_script(CommandRunner& commands, const std::string& script, const std::string& what) {
  RunOptions options;
  options.stdin_text = script;
  auto result = commands.run_checked({"nft", "-f", "-"}, options);
  if (!result.ok()) return result.status().with_context(what);
  return {};
}

}  // namespace

Status install_redirect(CommandRunner& commands, const RedirectRules& rules) {
  // One transaction: a leftover of this same fault id is replaced, and a
  // failure leaves neither.
  return run_script(commands, drop_table_lines(rules.table) + render_redirect_ruleset(rules),
                    "installing nft table inet " + rules.table);
}

Status remove_redirect(CommandRunner& commands, const std::string& table) {
  return run_script(commands, drop_table_lines(table), "removing nft table inet " + table);
}

std::string udp_redirect_rule(const RedirectRules& rules, int family) {
  if (family != AF_INET && !(family == AF_INET6 && rules.include_ipv6)) return {};
  return family_match(rules, family) + " udp dport 53 redirect to :" + std::to_string(rules.stub_port);
}

StatusOr<std::string> list_redirect_table(CommandRunner& commands, const std::string& table) {
  auto listed = commands.run({"nft", "list", "table", "inet", table});
  if (!listed.ok()) return listed.status().with_context("listing nft table inet " + table);
  if (listed->exit_code != 0) {
    std::string why = listed->stderr_text.substr(0, listed->stderr_text.find('\n'));
    return failed_precondition("nft table inet " + table + " is not in the ruleset (nft: " + why + ")");
  }
  return listed->stdout_text.substr(0, kMaxListingBytes);
}

Status check_redirect_listing(std::string_view listing, const RedirectRules& rules, int family) {
  const std::string where = "nft table inet " + rules.table;
  bool hook = false;
  bool rule = false;
  const std::string wanted = udp_redirect_rule(rules, family);
  if (wanted.empty()) {
    return failed_precondition(where + ": no redirect for " + (family == AF_INET6 ? "IPv6" : "this family") +
                               " queries (the stub does not listen on ::1), so clients' queries bypass it");
  }
  std::istringstream lines{std::string(listing)};
  for (std::string line; std::getline(lines, line);) {
    const auto first = line.find_first_not_of(" \t");
    if (first == std::string::npos) continue;
    line = line.substr(first);
    if (line.rfind("type nat hook output ", 0) == 0) hook = true;
    if (line == wanted) rule = true;
  }
  if (!hook) return failed_precondition(where + " has no nat chain on the output hook");
  if (!rule) return failed_precondition(where + " lacks the rule \"" + wanted + "\"");
  return {};
}

StatusOr<bool> redirect_table_listed(CommandRunner& commands, const std::string& table) {
  auto listed = commands.run_checked({"nft", "list", "tables"});
  if (!listed.ok()) return listed.status().with_context("listing nft tables");
  std::istringstream lines{listed->stdout_text.substr(0, kMaxListingBytes)};
  const std::string wanted = "table inet " + table;
  for (std::string line; std::getline(lines, line);) {
    if (line == wanted) return true;
  }
  return false;
}

}  // namespace chaos::agent::dns
