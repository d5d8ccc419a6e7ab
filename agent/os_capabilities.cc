#include "agent/os_capabilities.h"

#include <fstream>
#include <utility>

namespace chaos::agent {

namespace {

// Bit numbers from linux/capability.h.
const std::vector<std::pair<std::string, int>>& relevant() {
  static const std::vector<std::pair<std::string, int>> table = {
      {"CAP_KILL", 5},        // process faults on other users' processes
      {"CAP_NET_ADMIN", 12},  // tc, nftables, NFQUEUE
      {"CAP_NET_RAW", 13},    // raw sockets for the userspace network engine
      {"CAP_SYS_PTRACE", 19},  // reading other processes' /proc/PID/ns/net
      {"CAP_SYS_ADMIN", 21},  // entering network namespaces
  };
  return table;
}

bool has(std::uint64_t mask, const std::string& name) {
  for (const auto& [known, bit] : relevant()) {
    if (known == name) return ((mask >> bit) & 1U) != 0;
  }
  return false;
}

}  // namespace

std::vector<std::string> capabilities_needed_by(const std::string& kind) {
  // tc/nftables/iptables/NFQUEUE (and the DNS redirect rules) are all
  // netlink configuration: CAP_NET_ADMIN. The NFQUEUE engine re-injects
  // delayed and duplicated packets through a raw socket: CAP_NET_RAW.
  // Signals to other users' processes: CAP_KILL.
  if (kind.rfind("network.", 0) == 0) return {"CAP_NET_ADMIN", "CAP_NET_RAW"};
  if (kind.rfind("dns.", 0) == 0) return {"CAP_NET_ADMIN"};
  if (kind.rfind("process.", 0) == 0) return {"CAP_KILL"};
  return {};
}

std::vector<std::string> missing_capabilities_for(const std::string& kind, std::uint64_t effective_mask) {
  std::vector<std::string> missing;
  for (const auto& name : capabilities_needed_by(kind)) {
    if (!has(effective_mask, name)) missing.push_back(name);
  }
  return missing;
}

std::vector<std::string> relevant_capabilities(std::uint64_t effective_mask) {
  std::vector<std::string> names;
  for (const auto& [name, bit] : relevant()) {
    if ((effective_mask >> bit) & 1U) names.push_back(name);
  }
  return names;
}

std::vector<std::string> missing_capabilities(std::uint64_t effective_mask) {
  std::vector<std::string> names;
  for (const auto& [name, bit] : relevant()) {
    if (((effective_mask >> bit) & 1U) == 0) names.push_back(name);
  }
  return names;
}

std::uint64_t effective_capability_mask() {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("CapEff:", 0) != 0) continue;
    try {
      return std::stoull(line.substr(7), nullptr, 16);
    } catch (const std::exception&) {
      return 0;
    }
  }
  return 0;
}

}  // namespace chaos::agent
