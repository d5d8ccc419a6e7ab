#include "agent/faults/dns/dns_redirect_rules.h"

#include <cctype>
#include <cstdio>

namespace chaos::agent::dns {

namespace {

constexpr std::size_t kMaxTableNameLength = 64;

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
  script += redirect_lines(rules.loopback_destinations_only ? "ip daddr 127.0.0.0/8" : "meta nfproto ipv4",
                           rules.stub_port);
  if (rules.include_ipv6) {
    script += redirect_lines(rules.loopback_destinations_only ? "ip6 daddr ::1" : "meta nfproto ipv6",
                             rules.stub_port);
  }
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

}  // namespace chaos::agent::dns
