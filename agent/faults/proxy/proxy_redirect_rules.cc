#include "agent/faults/proxy/proxy_redirect_rules.h"

#include <cctype>
#include <cstdio>
#include <vector>

namespace chaos::agent::proxy {

namespace {

constexpr std::size_t kProxyTableNameLength = 64;

std::string proxy_hex_mark(std::uint32_t mark) {
  char text[16];
  std::snprintf(text, sizeof text, "0x%08x", mark);
  return text;
}

// One line per family redirected.
std::string proxy_redirect_lines(const ProxyRedirectRules& rules) {
  std::vector<std::string> matches;
  if (!rules.address.empty()) {
    matches.push_back((rules.address.find(':') != std::string::npos ? "ip6 daddr " : "ip daddr ") + rules.address);
  } else {
    if (rules.ipv4) matches.push_back("meta nfproto ipv4");
    if (rules.ipv6) matches.push_back("meta nfproto ipv6");
  }
  std::string lines;
  for (const std::string& match : matches) {
    // SYN only: a connection conntrack first meets mid-stream (it predates
    // the first nat or conntrack rule of the namespace, and loose pickup
    // makes its next packet "new") must keep its direct path, not be sent
    // to a proxy that never saw its handshake.
    lines += "    " + match + " tcp dport " + std::to_string(rules.port) +
             " tcp flags & (syn | ack) == syn redirect to :" + std::to_string(rules.proxy_port) + "\n";
  }
  return lines;
}

std::size_t proxy_redirect_families(const ProxyRedirectRules& rules) {
  if (!rules.address.empty()) return 1;
  return (rules.ipv4 ? 1 : 0) + (rules.ipv6 ? 1 : 0);
}

}  // namespace

std::string proxy_table_name(const std::string& fault_id) {
  std::string name = "chaos_tcp_";
  for (char c : fault_id) {
    if (name.size() >= kProxyTableNameLength) break;
    name += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  }
  return name;
}

std::string render_proxy_ruleset(const ProxyRedirectRules& rules) {
  const std::string redirect = proxy_redirect_lines(rules);
  const std::string proxy_port = std::to_string(rules.proxy_port);
  std::string script = "table inet " + rules.table + " {\n";
  if (rules.local) {
    // priority -100 (dstnat), where DNAT/REDIRECT belong.
    script += "  chain output {\n    type nat hook output priority -100; policy accept;\n";
    script += "    meta mark " + proxy_hex_mark(rules.exempt_mark) + " return\n" + redirect + "  }\n";
  }
  if (rules.remote) {
    script += "  chain prerouting {\n    type nat hook prerouting priority -100; policy accept;\n" + redirect +
              "  }\n";
    // A prerouting redirect lands on the interface's own address, so the
    // proxy listens on every address: only redirected connections may
    // reach it, never a direct one from the network.
    script += "  chain input {\n    type filter hook input priority 0; policy accept;\n";
    script += "    tcp dport " + proxy_port + " ct status dnat accept\n";
    script += "    tcp dport " + proxy_port + " drop\n  }\n";
  }
  return script + "}\n";
}

Status install_proxy_redirect(CommandRunner& commands, const ProxyRedirectRules& rules) {
  RunOptions options;
  // nft 1.0.6 has no "destroy": adding the table first makes the delete
  // succeed whether or not a leftover exists, in the same transaction.
  options.stdin_text = "add table inet " + rules.table + "\ndelete table inet " + rules.table + "\n" +
                       render_proxy_ruleset(rules);
  auto result = commands.run_checked({"nft", "-f", "-"}, options);
  if (!result.ok()) return result.status().with_context("installing nft table inet " + rules.table);
  return {};
}

Status check_proxy_listing(std::string_view listing, const ProxyRedirectRules& rules) {
  const std::string where = "nft table inet " + rules.table;
  const std::string target = "redirect to :" + std::to_string(rules.proxy_port);
  const std::string port = "tcp dport " + std::to_string(rules.port);
  if (rules.local && listing.find("type nat hook output ") == std::string_view::npos) {
    return failed_precondition(where + " has no nat chain on the output hook");
  }
  if (rules.remote && listing.find("type nat hook prerouting ") == std::string_view::npos) {
    return failed_precondition(where + " has no nat chain on the prerouting hook");
  }
  // Every redirect line names the port in scope and the proxy's port.
  std::size_t found = 0;
  for (std::size_t at = listing.find(target); at != std::string_view::npos; at = listing.find(target, at + 1)) {
    const std::size_t line_start = listing.rfind('\n', at);
    const std::string_view line = listing.substr(line_start == std::string_view::npos ? 0 : line_start, at - (line_start == std::string_view::npos ? 0 : line_start));
    if (line.find(port) != std::string_view::npos) ++found;
  }
  const std::size_t wanted = ((rules.local ? 1 : 0) + (rules.remote ? 1 : 0)) * proxy_redirect_families(rules);
  if (found < wanted) {
    return failed_precondition(where + " lacks the redirect \"" + port + " " + target + "\" in " +
                               std::to_string(wanted - found) + " of its " + std::to_string(wanted) +
                               " nat rules (one per chain and address family)");
  }
  return {};
}

}  // namespace chaos::agent::proxy
