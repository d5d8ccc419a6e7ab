#include "agent/faults/network/rules/object_names.h"

#include <cstdio>
#include <string>

namespace chaos::agent::network {

std::string fault_object_tag(const std::string& fault_id) {
  std::uint64_t hash = 0xcbf29ce484222325ULL;
  for (unsigned char c : fault_id) {
    hash ^= c;
    hash *= 0x100000001b3ULL;
  }
  char text[17];
  std::snprintf(text, sizeof(text), "%016llx", static_cast<unsigned long long>(hash));
  return text;
}

FaultObjectNames fault_object_names(const std::string& fault_id) {
  const std::string tag = fault_object_tag(fault_id);
  const auto hash = std::stoull(tag, nullptr, 16);
  char leaf[16];
  std::snprintf(leaf, sizeof(leaf), "%x:", static_cast<unsigned>(kFirstLeafHandle + (hash >> 16) % kLeafHandleCount));
  return FaultObjectNames{std::string(kIptablesChainPrefix) + tag + "-O",
                          std::string(kIptablesChainPrefix) + tag + "-I", std::string(kNftTablePrefix) + tag, leaf};
}

}  // namespace chaos::agent::network
