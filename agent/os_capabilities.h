// The Linux capabilities this process holds that fault kinds need, for
// Capabilities and for a start-up warning when the agent is not root.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace chaos::agent {

// Names ("CAP_KILL", ...) of the relevant capabilities in `effective_mask`.
std::vector<std::string> relevant_capabilities(std::uint64_t effective_mask);
// The relevant capabilities that `effective_mask` lacks.
std::vector<std::string> missing_capabilities(std::uint64_t effective_mask);
// The capabilities a fault kind needs ("network.delay" -> CAP_NET_ADMIN,
// "process.kill" -> CAP_KILL); empty for an unknown kind.
std::vector<std::string> capabilities_needed_by(const std::string& kind);
// The ones of those that `effective_mask` lacks: the kind is not offered.
std::vector<std::string> missing_capabilities_for(const std::string& kind, std::uint64_t effective_mask);
// CapEff of this process from /proc/self/status (0 if unreadable).
std::uint64_t effective_capability_mask();

}  // namespace chaos::agent
