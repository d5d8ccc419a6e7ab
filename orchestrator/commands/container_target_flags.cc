#include "orchestrator/commands/container_target_flags.h"

#include <map>
#include <utility>

#include "orchestrator/experiment/fault_spec_builder.h"

namespace chaos::orchestrator {

namespace {

// The selector field each flag sets, to say the flag in the shared checks'
// messages ("target.id_prefix: ..." -> "--container-id: ...").
const std::vector<std::pair<std::string, std::string>>& flag_of_field() {
  static const std::vector<std::pair<std::string, std::string>> table = {
      {"runtime", "--runtime"},           {"name", "--container-name"},
      {"id_prefix", "--container-id"},    {"labels", "--container-label"},
      {"pod_namespace", "--pod-namespace"}, {"pod_name", "--pod-name"},
      {"pod_labels", "--pod-label"},      {"container_name", "--container-name-in-pod"},
  };
  return table;
}

std::string in_flag_terms(const std::string& message) {
  for (const auto& [field, flag] : flag_of_field()) {
    const std::string prefix = "target." + field;
    if (message.rfind(prefix, 0) == 0 && message.size() > prefix.size() &&
        (message[prefix.size()] == ':' || message[prefix.size()] == ' ' || message[prefix.size()] == '.')) {
      return flag + message.substr(prefix.size());
    }
  }
  return "container target" + message.substr(std::string("target").size());
}

Status add_labels(const std::vector<std::string>& assignments, const std::string& flag,
                  google::protobuf::Map<std::string, std::string>& labels) {
  for (const auto& assignment : assignments) {
    const auto equals = assignment.find('=');
    if (equals == std::string::npos || equals == 0) {
      return invalid_argument(flag + " '" + assignment + "': expected key=value");
    }
    const std::string key = assignment.substr(0, equals);
    if (!labels.insert({key, assignment.substr(equals + 1)}).second) {
      return invalid_argument(flag + " " + key + ": given twice");
    }
  }
  return {};
}

bool only_runtime(const v1::ContainerSelector& selector) {
  v1::ContainerSelector rest = selector;
  rest.clear_runtime();
  return !selector.runtime().empty() && rest.ByteSizeLong() == 0;
}

}  // namespace

void add_container_target_options(CLI::App& command, ContainerTargetFlags& flags) {
  const std::string group = "Container target (the fault acts inside matching containers on the agent's host)";
  command.add_option("--runtime", flags.runtime, "Container runtime: containerd, docker or podman (default: any)")
      ->group(group);
  command.add_option("--container-name", flags.name, "Container name (exact)")->group(group);
  command.add_option("--container-id", flags.id_prefix, "Container id or its prefix (at least 4 hex characters)")
      ->group(group);
  command.add_option("--container-label", flags.labels, "Container label key=value, repeatable (all must match)")
      ->group(group);
  command.add_option("--pod-namespace", flags.pod_namespace, "Kubernetes pod namespace")->group(group);
  command.add_option("--pod-name", flags.pod_name, "Kubernetes pod name (with --pod-namespace)")->group(group);
  command.add_option("--pod-label", flags.pod_labels, "Pod label key=value, repeatable (with --pod-namespace)")
      ->group(group);
  command.add_option("--container-name-in-pod", flags.name_in_pod,
                     "The container's name within its pod (with --pod-namespace)")
      ->group(group);
}

StatusOr<std::optional<v1::ContainerSelector>> container_selector_from_flags(const ContainerTargetFlags& flags) {
  v1::ContainerSelector selector;
  selector.set_runtime(flags.runtime);
  selector.set_name(flags.name);
  selector.set_id_prefix(flags.id_prefix);
  CHAOS_RETURN_IF_ERROR(add_labels(flags.labels, "--container-label", *selector.mutable_labels()));
  selector.set_pod_namespace(flags.pod_namespace);
  selector.set_pod_name(flags.pod_name);
  CHAOS_RETURN_IF_ERROR(add_labels(flags.pod_labels, "--pod-label", *selector.mutable_pod_labels()));
  selector.set_container_name(flags.name_in_pod);
  if (selector.ByteSizeLong() == 0) return std::optional<v1::ContainerSelector>();
  if (only_runtime(selector)) {
    // The shared check's message would name proto fields.
    return invalid_argument("--runtime: give --container-name, --container-id, --container-label or "
                            "--pod-namespace too (a runtime alone would match every container on the node)");
  }
  const Status checked = check_container_target(selector, "target");
  if (!checked.ok()) return invalid_argument(in_flag_terms(checked.message()));
  return std::optional<v1::ContainerSelector>(selector);
}

}  // namespace chaos::orchestrator
