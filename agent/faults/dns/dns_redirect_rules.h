// The nftables side of a DNS fault: one table we own per fault, with a nat
// chain on the output hook that redirects the node's udp+tcp queries to port
// 53 into the stub responder on loopback. Nothing else is touched, and
// removal deletes exactly that table.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/command_runner.h"
#include "common/status.h"

namespace chaos::agent::dns {

// Set with SO_MARK on the responder's upstream sockets; the chain returns
// early for it so forwarded queries reach the real resolver instead of being
// redirected into the stub again. A socket mark was chosen over owner
// matching (`meta skuid`): the agent runs as root like many of the programs
// whose lookups must be faulted, and over cgroup matching: the agent may not
// have a cgroup of its own. The mark exists only on our sockets.
inline constexpr std::uint32_t kUpstreamSocketMark = 0x4348444e;  // "CHDN"

struct RedirectRules {
  std::string table;            // e.g. "chaos_dns_f42"
  std::uint16_t stub_port = 0;  // the responder's port on 127.0.0.1 / ::1
  std::uint32_t exempt_mark = kUpstreamSocketMark;
  bool include_ipv6 = false;    // only when the responder listens on ::1 too
  // Redirect only queries sent to loopback addresses (see UpstreamResolver).
  bool loopback_destinations_only = false;
};

// "chaos_dns_" + the fault id reduced to [A-Za-z0-9_], at most 64 characters:
// derivable from the id alone so recovery finds it after a crash.
std::string redirect_table_name(const std::string& fault_id);

// The `nft -f -` script that creates the table (one transaction).
std::string render_redirect_ruleset(const RedirectRules& rules);

// One `nft -f -` transaction that replaces any table of the same name
// (a leftover of this fault id) with the rendered one.
Status install_redirect(CommandRunner& commands, const RedirectRules& rules);

// Deletes the table in one `nft -f -` transaction; a table that is already
// gone is success.
Status remove_redirect(CommandRunner& commands, const std::string& table);

// The rule, as `nft list table` prints it, that redirects udp queries of
// `family` (AF_INET / AF_INET6) into the stub; empty when the rules do not
// cover that family.
std::string udp_redirect_rule(const RedirectRules& rules, int family);

// `nft list table inet <table>` read back from the kernel (capped);
// FAILED_PRECONDITION "nft table inet <table> is not in the ruleset" when
// nft cannot list it.
StatusOr<std::string> list_redirect_table(CommandRunner& commands, const std::string& table);

// OK when `listing` holds the nat output hook and the udp rule for `family`;
// FAILED_PRECONDITION naming the first thing missing.
Status check_redirect_listing(std::string_view listing, const RedirectRules& rules, int family);

// Whether `nft list tables` shows `table inet <table>`.
StatusOr<bool> redirect_table_listed(CommandRunner& commands, const std::string& table);

}  // namespace chaos::agent::dns
