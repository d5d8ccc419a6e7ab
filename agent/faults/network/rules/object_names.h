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
};

FaultObjectNames fault_object_names(const std::string& fault_id);

// Every chain and table we create starts with one of these; tests and
// recovery look for them.
inline constexpr const char* kIptablesChainPrefix = "CHAOS-";
inline constexpr const char* kNftTablePrefix = "chaos_";

// Packets carrying this mark (our own duplicates) are never steered again.
inline constexpr std::uint32_t kBypassMark = 0x43484153;  // "CHAS"

}  // namespace chaos::agent::network
