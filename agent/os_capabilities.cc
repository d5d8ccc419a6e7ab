#include "agent/os_capabilities.h"

#include <fstream>
#include <utility>

namespace chaos::agent {

namespace {

// Bit numbers from linux/capability.h.
const std::vector<std::pair<std::string, int>>& all_capabilities() {
  static const std::vector<std::pair<std::string, int>> table = {
      {"CAP_CHOWN", 0},           {"CAP_DAC_OVERRIDE", 1},    {"CAP_DAC_READ_SEARCH", 2}, {"CAP_FOWNER", 3},
      {"CAP_FSETID", 4},          {"CAP_KILL", 5},            {"CAP_SETGID", 6},          {"CAP_SETUID", 7},
      {"CAP_SETPCAP", 8},         {"CAP_LINUX_IMMUTABLE", 9}, {"CAP_NET_BIND_SERVICE", 10},
      {"CAP_NET_BROADCAST", 11},  {"CAP_NET_ADMIN", 12},      {"CAP_NET_RAW", 13},        {"CAP_IPC_LOCK", 14},
      {"CAP_IPC_OWNER", 15},      {"CAP_SYS_MODULE", 16},     {"CAP_SYS_RAWIO", 17},      {"CAP_SYS_CHROOT", 18},
      {"CAP_SYS_PTRACE", 19},     {"CAP_SYS_PACCT", 20},      {"CAP_SYS_ADMIN", 21},      {"CAP_SYS_BOOT", 22},
      {"CAP_SYS_NICE", 23},       {"CAP_SYS_RESOURCE", 24},   {"CAP_SYS_TIME", 25},       {"CAP_SYS_TTY_CONFIG", 26},
      {"CAP_MKNOD", 27},          {"CAP_LEASE", 28},          {"CAP_AUDIT_WRITE", 29},    {"CAP_AUDIT_CONTROL", 30},
      {"CAP_SETFCAP", 31},        {"CAP_MAC_OVERRIDE", 32},   {"CAP_MAC_ADMIN", 33},      {"CAP_SYSLOG", 34},
      {"CAP_WAKE_ALARM", 35},     {"CAP_BLOCK_SUSPEND", 36},  {"CAP_AUDIT_READ", 37},     {"CAP_PERFMON", 38},
      {"CAP_BPF", 39},            {"CAP_CHECKPOINT_RESTORE", 40},
  };
  return table;
}

// The ones today's fault kinds need (their required_capabilities), for the
// start-up report and the Capabilities response.
const std::vector<std::string>& relevant() {
  static const std::vector<std::string> names = {
      "CAP_KILL",          // process faults on other users' processes
      "CAP_NET_ADMIN",     // tc, nftables, NFQUEUE, the DNS redirect
      "CAP_NET_RAW",       // raw sockets for the userspace network engine
      "CAP_SYS_ADMIN",     // container targets: entering a container's namespaces
      "CAP_DAC_OVERRIDE",  // container.pause: the cgroup freezer files
  };
  return names;
}

bool has(std::uint64_t mask, const std::string& name) {
  for (const auto& [known, bit] : all_capabilities()) {
    if (known == name) return ((mask >> bit) & 1U) != 0;
  }
  return false;
}

}  // namespace

std::vector<std::string> missing_capabilities_for(const std::vector<std::string>& needed,
                                                  std::uint64_t effective_mask) {
  std::vector<std::string> missing;
  for (const auto& name : needed) {
    if (!has(effective_mask, name)) missing.push_back(name);
  }
  return missing;
}

std::vector<std::string> relevant_capabilities(std::uint64_t effective_mask) {
  std::vector<std::string> names;
  for (const auto& name : relevant()) {
    if (has(effective_mask, name)) names.push_back(name);
  }
  return names;
}

std::vector<std::string> missing_capabilities(std::uint64_t effective_mask) {
  std::vector<std::string> names;
  for (const auto& name : relevant()) {
    if (!has(effective_mask, name)) names.push_back(name);
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
