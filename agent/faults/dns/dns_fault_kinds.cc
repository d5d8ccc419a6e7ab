#include "agent/faults/dns/dns_fault_kinds.h"

#include "agent/faults/dns/dns_fault_kind.h"

namespace chaos::agent {

std::vector<std::unique_ptr<FaultKind>> make_dns_fault_kinds(const AgentEnvironment& env) {
  std::vector<std::unique_ptr<FaultKind>> kinds;
  kinds.push_back(std::make_unique<dns::DnsFaultKind>(env, dns::DnsFaultOptions{}));
  return kinds;
}

}  // namespace chaos::agent
