// Names of the kernel objects a network fault owns, derived only from the
// fault id so that a restarted agent can find and remove them (recover())
// without any other state. iptables chain names are limited to 28 bytes,
// hence a hash rather than the raw id.
#pragma once

#include <cstdint>
#include <string>

namespace chaos::agent::network {

// 16 hex digits of a stable 64-bit hash (FNV-1a) of the fault id.
std::string fault_object_tag(const std::string& fault_id);

struct FaultObjectNames {
  std::string egress_chain;   // "CHAOS-<tag>-O" in the mangle table
  std::string ingress_chain;  // "CHAOS-<tag>-I"
  std::string nft_table;      // "chaos_<tag>" in family inet
  // Handle of the leaf qdisc below our htb class ("1a2b:"), so a tree on
  // an interface tells which fault built it. 16 bits only: the interface
  // narrows the candidates to the faults that ever shaped it.
  std::string qdisc_leaf_handle;
};

FaultObjectNames fault_object_names(const std::string& fault_id);

// Every chain and table we create starts with one of these; tests and
// recovery look for them.
inline constexpr const char* kIptablesChainPrefix = "CHAOS-";
inline constexpr const char* kNftTablePrefix = "chaos_";

// Leaf handles are taken from this range, which excludes our root "cafe:"
// and the kernel's automatic handles (8000: and up are allocated by the
// kernel only for qdiscs added without a handle, and never below 0x1000).
inline constexpr std::uint32_t kFirstLeafHandle = 0x1000;
inline constexpr std::uint32_t kLeafHandleCount = 0x7000;  // up to 0x7fff

// Packets carrying this mark (our own duplicates) are never steered again.
inline constexpr std::uint32_t kBypassMark = 0x43484153;  // "CHAS"

}  // namespace chaos::agent::network
