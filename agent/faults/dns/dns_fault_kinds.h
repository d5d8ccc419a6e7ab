// The DNS fault kinds, for explicit registration in the agent's main.
#pragma once

#include <memory>
#include <vector>

#include "agent/fault.h"

namespace chaos::agent {

// Today one kind, "dns.fail" (modes nxdomain, servfail, refused, timeout,
// delay, spoof), backend "dns-stub".
std::vector<std::unique_ptr<FaultKind>> make_dns_fault_kinds(const AgentEnvironment& env);

}  // namespace chaos::agent
