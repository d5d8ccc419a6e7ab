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
// The ones of `needed` (a kind's FaultKind::required_capabilities) that
// `effective_mask` lacks: the kind is not offered. A name Linux does not
// know counts as missing.
std::vector<std::string> missing_capabilities_for(const std::vector<std::string>& needed,
                                                  std::uint64_t effective_mask);
// CapEff of this process from /proc/self/status (0 if unreadable).
std::uint64_t effective_capability_mask();

}  // namespace chaos::agent
