#include "orchestrator/run/fault_proof.h"

#include <map>

#include "common/duration.h"
#include "orchestrator/experiment/fault_spec_builder.h"

namespace chaos::orchestrator {

namespace {

SystemChangeRecord change_of(const v1::SystemChange& change) {
  return {change.source(), change.change(), change.line(), change.fault_id()};
}

}  // namespace

std::string effect_name(v1::EffectState effect) {
  switch (effect) {
    case v1::EFFECT_STATE_VERIFIED: return "verified";
    case v1::EFFECT_STATE_ARMED: return "armed";
    case v1::EFFECT_STATE_UNVERIFIED: return "unverified";
    case v1::EFFECT_STATE_NOT_CHECKED: return "not checked";
    default: return "";
  }
}

FaultProof proof_of(const v1::Fault& fault) {
  FaultProof proof;
  proof.effect = effect_name(fault.effect());
  proof.evidence = fault.evidence();
  proof.verified_at = wall_time_from_proto(fault.verified_at());
  proof.effect_seen_at = wall_time_from_proto(fault.effect_seen_at());
  proof.gone_verified_at = wall_time_from_proto(fault.gone_verified_at());
  proof.gone_evidence = fault.gone_evidence();
  if (fault.has_time_to_effect()) proof.time_to_effect = duration_from_proto(fault.time_to_effect());
  if (fault.has_time_to_gone()) proof.time_to_gone = duration_from_proto(fault.time_to_gone());
  for (const auto& [name, value] : fault.counters()) proof.counters[name] = value;
  return proof;
}

std::vector<ContainerRecord> containers_of(const v1::Fault& fault) {
  std::vector<ContainerRecord> containers;
  for (const auto& ref : fault.containers()) {
    containers.push_back({ref.runtime(), ref.id(), ref.name(), ref.pid(), ref.network_namespace(),
                          ref.pod_namespace(), ref.pod_name()});
  }
  return containers;
}

std::string describe_container_ref(const v1::ContainerRef& container) {
  std::string out = container.runtime() + " " + (container.name().empty() ? "?" : container.name()) + " (" +
                    container.id().substr(0, 12) + ") pid " + std::to_string(container.pid());
  if (!container.network_namespace().empty()) out += " " + container.network_namespace();
  if (!container.pod_name().empty()) out += " pod " + container.pod_namespace() + "/" + container.pod_name();
  return out;
}

NodeLeftovers leftovers_of(const std::string& agent, const std::string& node, const v1::LeftoverReport& report) {
  NodeLeftovers leftovers;
  leftovers.agent = agent;
  leftovers.node = node;
  leftovers.checked = report.checked();
  for (const auto& change : report.leftovers()) leftovers.leftovers.push_back(change_of(change));
  for (const auto& change : report.foreign()) leftovers.foreign.push_back(change_of(change));
  leftovers.errors.assign(report.errors().begin(), report.errors().end());
  return leftovers;
}

std::string describe_effect(const v1::Fault& fault) {
  const std::string within =
      fault.has_time_to_effect() ? " in " + format_duration(duration_from_proto(fault.time_to_effect())) : "";
  const std::string evidence = fault.evidence().empty() ? "" : ": " + fault.evidence();
  switch (fault.effect()) {
    case v1::EFFECT_STATE_VERIFIED: return "verified" + within + evidence;
    case v1::EFFECT_STATE_ARMED: return "armed, no traffic yet" + within + evidence;
    case v1::EFFECT_STATE_UNVERIFIED: return "NOT verified" + evidence;
    case v1::EFFECT_STATE_NOT_CHECKED: return "not checked (verify = off)";
    default: return "";
  }
}

std::string describe_gone(const v1::Fault& fault) {
  if (!fault.has_gone_verified_at()) return "";
  std::string text = "verified";
  if (fault.has_time_to_gone()) text += " in " + format_duration(duration_from_proto(fault.time_to_gone()));
  return text + (fault.gone_evidence().empty() ? "" : ": " + fault.gone_evidence());
}

std::string describe_counters(const v1::Fault& fault) {
  const std::map<std::string, std::uint64_t> sorted(fault.counters().begin(), fault.counters().end());
  std::string text;
  for (const auto& [name, value] : sorted) text += (text.empty() ? "" : " ") + name + "=" + std::to_string(value);
  return text;
}

}  // namespace chaos::orchestrator
