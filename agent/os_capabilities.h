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
// CapEff of this process from /proc/self/status (0 if unreadable).
std::uint64_t effective_capability_mask();

}  // namespace chaos::agent
