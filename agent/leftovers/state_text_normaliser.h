// Turns one tool's listing into lines that compare equal when the system did
// not change: counters, banners with dates, reference counts and handles the
// kernel allocates itself are dropped, whitespace is collapsed, and a line
// that only means something in its block (an nft rule, an iptables-save rule)
// carries its table/chain path so it can be told apart and attributed alone.
// Every listing is bounded: at most `max_lines` lines of at most
// `max_line_bytes` bytes come out; `truncated` says when that cut something.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace chaos::agent::leftovers {

struct TextBounds {
  std::size_t max_lines = 20'000;
  std::size_t max_line_bytes = 1'024;
};

struct NormalisedText {
  std::vector<std::string> lines;
  bool truncated = false;
};

// `nft list ruleset`: "table inet chaos_1a2b / chain out: ip daddr 10.0.0.2
// counter drop"; a block header is a line of its own ("table inet x",
// "table inet x / chain out") so an empty table or chain is visible. The
// tables iptables-nft creates on first use (ip/ip6/arp/bridge filter, mangle,
// nat, raw, security) and their accept-policy base chains are the kernel's
// default state and are left out; their rules are kept.
NormalisedText normalise_nft_ruleset(std::string_view text, const TextBounds& bounds);

// `iptables-save` / `ip6tables-save` (with or without -c): "mangle: -A
// POSTROUTING -o eth0 -j CHAOS-1a2b-O", "mangle: :CHAOS-1a2b-O -". Built-in
// chains with the default ACCEPT policy are left out (a table loaded on first
// use is no change), as are COMMIT and comments.
NormalisedText normalise_iptables_save(std::string_view text, const TextBounds& bounds);

// `tc qdisc|class|filter show dev X`: without refcnt, direct_packets_stat and
// u32 "fh" handles; kernel-allocated qdisc handles (8001: ...) read "8xxx:".
NormalisedText normalise_tc(std::string_view text, const TextBounds& bounds);

// `ip rule`, sysctl values: whitespace collapsed, empty lines dropped.
NormalisedText normalise_plain(std::string_view text, const TextBounds& bounds);

// resolv.conf: as plain, and comments ('#', ';') dropped (they change nothing).
NormalisedText normalise_resolv_conf(std::string_view text, const TextBounds& bounds);

}  // namespace chaos::agent::leftovers
