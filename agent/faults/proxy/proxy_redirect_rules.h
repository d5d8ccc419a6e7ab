// The nftables side of a tcp.* fault: one table per fault (family inet, so
// one table covers IPv4 and IPv6), named after the fault id, whose nat
// chains redirect NEW TCP connections in scope to the agent's proxy. nat chains see only a connection's first packet, so
// connections opened before the table existed keep their direct path, and
// deleting the table sends later connections direct again.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/command_runner.h"
#include "common/status.h"

namespace chaos::agent::proxy {

// SO_MARK of the proxy's upstream sockets: its own chains return early for
// it, so the proxy's connection to the original destination is not
// redirected into the proxy again.
inline constexpr std::uint32_t kProxySocketMark = 0x43485450;  // "CHTP"

struct ProxyRedirectRules {
  std::string table;              // "chaos_tcp_<id>"
  std::uint16_t proxy_port = 0;   // where the proxy listens
  std::uint16_t port = 0;         // destination port in scope
  std::string address;            // destination IPv4 or IPv6; empty: any
  bool local = true;              // nat output: connections opened here
  bool remote = false;            // nat prerouting: connections arriving
  std::uint32_t exempt_mark = kProxySocketMark;
  // Families redirected: an address's own, or (without one) IPv4 and, when
  // the proxy listens on IPv6 too, IPv6.
  bool ipv4 = true;
  bool ipv6 = false;
};

// "chaos_tcp_" + the fault id reduced to [A-Za-z0-9_], at most 64
// characters: derivable from the id alone, so recovery finds it.
std::string proxy_table_name(const std::string& fault_id);

// The `nft -f -` script that creates the table.
std::string render_proxy_ruleset(const ProxyRedirectRules& rules);

// One transaction replacing any table of the same name (a leftover of the
// same fault id) with the rendered one.
Status install_proxy_redirect(CommandRunner& commands, const ProxyRedirectRules& rules);

// OK when `listing` (`nft list table inet <table>`) holds each hook the
// rules need and their redirect to the proxy port; FAILED_PRECONDITION
// naming the first thing missing.
Status check_proxy_listing(std::string_view listing, const ProxyRedirectRules& rules);

}  // namespace chaos::agent::proxy
