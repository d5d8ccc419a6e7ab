// `chaosctl inject`'s container target flags: which containers on the
// agent's host the fault acts in (FaultSpec.target), checked as the agent
// checks a selector but with errors naming the flags.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "chaos/v1/agent.pb.h"
#include "common/status.h"

namespace chaos::orchestrator {

struct ContainerTargetFlags {
  std::string runtime;
  std::string name;
  std::string id_prefix;
  std::vector<std::string> labels;  // "key=value"
  std::string pod_namespace;
  std::string pod_name;
  std::vector<std::string> pod_labels;  // "key=value"
  std::string name_in_pod;
};

void add_container_target_options(CLI::App& command, ContainerTargetFlags& flags);

// nullopt without any container flag: the fault acts on the agent's host.
StatusOr<std::optional<v1::ContainerSelector>> container_selector_from_flags(const ContainerTargetFlags& flags);

}  // namespace chaos::orchestrator
