// Canonical fault-kind names shared by the agent, chaosctl and experiments.
#pragma once

#include <string>
#include <vector>

#include "chaos/v1/agent.pb.h"

namespace chaos {

// "network.delay", "network.loss", "network.partition", "network.bandwidth",
// "network.duplicate", "network.reorder", "dns.fail", "process.kill",
// "process.pause"; empty for an unset oneof.
std::string fault_kind_name(const v1::FaultSpec& spec);
std::string fault_kind_name(v1::FaultSpec::KindCase kind_case);

// KIND_NOT_SET for an unknown name.
v1::FaultSpec::KindCase fault_kind_from_name(const std::string& name);

const std::vector<std::string>& all_fault_kind_names();

}  // namespace chaos
