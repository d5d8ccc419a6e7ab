#include "orchestrator/commands/command_support.h"

#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/time_util.h>

#include <CLI/CLI.hpp>

#include "orchestrator/clients/agent_client.h"
#include "orchestrator/run/fault_proof.h"

namespace chaos::orchestrator {

nlohmann::json proto_to_json(const google::protobuf::Message& message) {
  std::string text;
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  if (!google::protobuf::util::MessageToJsonString(message, &text, options).ok()) return nullptr;
  return nlohmann::json::parse(text, nullptr, false);
}

void print_fault_line(std::ostream& out, const v1::Fault& fault) {
  using google::protobuf::util::TimeUtil;
  if (fault.state() == v1::FAULT_STATE_REVERT_FAILED) out << "!! ";
  out << fault.id() << "  " << fault.kind() << "  " << fault_state_name(fault.state()) << "  "
      << fault.backend() << "  " << fault.node_name();
  if (fault.has_expires_at()) out << "  expires " << TimeUtil::ToString(fault.expires_at());
  if (fault.has_reverted_at()) {
    out << "  reverted " << TimeUtil::ToString(fault.reverted_at()) << " (" << fault.revert_reason() << ")";
  }
  if (!fault.detail().empty()) out << "  " << fault.detail();
  out << "\n";
  // Where it acts: each container the agent resolved the target to.
  for (const auto& container : fault.containers()) out << "    in: " << describe_container_ref(container) << "\n";
  // The proof, read back from the system by the agent: what took effect,
  // how it is doing now, and that it is gone.
  if (const std::string effect = describe_effect(fault); !effect.empty()) out << "    effect: " << effect << "\n";
  if (const std::string counters = describe_counters(fault); !counters.empty()) {
    out << "    counters: " << counters << "\n";
  }
  if (const std::string gone = describe_gone(fault); !gone.empty()) out << "    gone: " << gone << "\n";
  if (!fault.error().empty()) out << "    error: " << fault.error() << "\n";
}

std::vector<std::string> unconfirmed_reverts(const std::vector<v1::Fault>& faults) {
  std::vector<std::string> unconfirmed;
  for (const auto& fault : faults) {
    if (fault.state() != v1::FAULT_STATE_REVERTED) unconfirmed.push_back(describe_fault_state(fault));
  }
  return unconfirmed;
}

size_t count_revert_failed(const std::vector<v1::Fault>& faults) {
  size_t count = 0;
  for (const auto& fault : faults) count += fault.state() == v1::FAULT_STATE_REVERT_FAILED ? 1 : 0;
  return count;
}

void add_output_option(CLI::App& command, std::string& output) {
  command.add_option("--output,-o", output, "Output format")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
}

}  // namespace chaos::orchestrator
