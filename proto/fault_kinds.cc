#include "proto/fault_kinds.h"

#include <utility>

namespace chaos {

namespace {

using Kind = v1::FaultSpec::KindCase;

const std::vector<std::pair<Kind, std::string>>& kind_table() {
  static const std::vector<std::pair<Kind, std::string>> table = {
      {v1::FaultSpec::kNetworkDelay, "network.delay"},
      {v1::FaultSpec::kNetworkLoss, "network.loss"},
      {v1::FaultSpec::kNetworkPartition, "network.partition"},
      {v1::FaultSpec::kNetworkBandwidth, "network.bandwidth"},
      {v1::FaultSpec::kNetworkDuplicate, "network.duplicate"},
      {v1::FaultSpec::kNetworkReorder, "network.reorder"},
      {v1::FaultSpec::kDns, "dns.fail"},
      {v1::FaultSpec::kProcessKill, "process.kill"},
      {v1::FaultSpec::kProcessPause, "process.pause"},
  };
  return table;
}

}  // namespace

std::string fault_kind_name(Kind kind_case) {
  for (const auto& [kind, name] : kind_table()) {
    if (kind == kind_case) return name;
  }
  return {};
}

std::string fault_kind_name(const v1::FaultSpec& spec) { return fault_kind_name(spec.kind_case()); }

Kind fault_kind_from_name(const std::string& name) {
  for (const auto& [kind, known] : kind_table()) {
    if (known == name) return kind;
  }
  return v1::FaultSpec::KIND_NOT_SET;
}

const std::vector<std::string>& all_fault_kind_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> list;
    for (const auto& entry : kind_table()) list.push_back(entry.second);
    return list;
  }();
  return names;
}

}  // namespace chaos
