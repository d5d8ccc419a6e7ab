#include "orchestrator/run/journal_json.h"

#include <google/protobuf/util/json_util.h>

#include <cmath>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>

#include "common/duration.h"
#include "orchestrator/run/first_violation.h"

namespace chaos::orchestrator {

namespace {

using nlohmann::json;

double seconds(std::chrono::nanoseconds duration) {
  return std::chrono::duration<double>(duration).count();
}

json spec_to_json(const v1::FaultSpec& spec) {
  std::string text;
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  if (!google::protobuf::util::MessageToJsonString(spec, &text, options).ok()) return json();
  return json::parse(text, nullptr, false);
}

json condition_to_json(const Condition& condition) {
  return {{"name", condition.name}, {"query", condition.query},
          {"comparator", comparator_symbol(condition.comparator)}, {"threshold", condition.threshold}};
}

json agent_to_json(const AgentEndpoint& agent) {
  return {{"address", agent.address}, {"node", agent.node}, {"labels", agent.labels}};
}

json step_to_json(const MethodStep& step) {
  json targets = json::array();
  for (const auto& agent : step.targets) targets.push_back(agent_to_json(agent));
  json selector = {{"labels", step.selector.labels}, {"seed", step.selector.seed}};
  if (step.selector.count) selector["count"] = *step.selector.count;
  if (step.selector.percent) selector["percent"] = *step.selector.percent;
  return {{"name", step.name}, {"kind", step.kind}, {"duration", format_duration(step.duration)},
          {"duration_seconds", seconds(step.duration)}, {"group", step.group},
          {"spec", step.is_wait() ? json() : spec_to_json(step.spec)}, {"selector", selector},
          {"targets", targets}, {"verify", step.is_wait() ? json() : json(verify_mode_name(step.verify))}};
}

// Threshold and values may be NaN/Inf, which JSON cannot hold: keep the text.
json finite_or_null(const std::optional<double>& value) {
  return value && std::isfinite(*value) ? json(*value) : json();
}

json evaluation_to_json(const EvaluationRecord& record) {
  const Evaluation& e = record.evaluation;
  json value = e.has_data && e.value && std::isfinite(*e.value) ? json(*e.value) : json();
  json item = {{"at", format_rfc3339(record.at)}, {"phase", record.phase}, {"kind", record.kind}, {"name", e.name},
          {"query", e.query}, {"comparator", comparator_symbol(e.comparator)}, {"threshold", e.threshold},
          {"has_data", e.has_data}, {"value", value}, {"value_text", e.value_text},
          {"series", e.series_count}, {"pass", e.holds}, {"error", e.error}};
  // Only kind "compare" has both sides: other records stay as they were.
  if (record.compare) {
    const CompareSample& c = *record.compare;
    item["difference"] = c.relative ? "relative" : "absolute";
    item["faulted"] = {{"query", c.faulted_query}, {"value", finite_or_null(c.faulted)}, {"value_text", c.faulted_text}};
    item["control"] = {{"query", c.control_query}, {"value", finite_or_null(c.control)}, {"value_text", c.control_text}};
  }
  return item;
}

json compare_to_json(const CompareCheck& check) {
  json phases = json::array();
  for (auto phase : {Phase::kDuring, Phase::kAfter}) {
    if (check.applies_to(phase)) phases.push_back(phase_name(phase));
  }
  return {{"name", check.name}, {"query", check.query}, {check.relative ? "tolerance" : "max_difference", check.tolerance},
          {"phases", phases}, {"faulted_nodes", check.faulted_nodes}, {"control_nodes", check.control_nodes},
          {"faulted_query", check.faulted_query}, {"control_query", check.control_query}};
}

json optional_time(const std::optional<WallTime>& time) { return time ? json(format_rfc3339(*time)) : json(); }

json optional_seconds(const std::optional<std::chrono::nanoseconds>& duration) {
  return duration ? json(seconds(*duration)) : json();
}

json change_to_json(const SystemChangeRecord& change) {
  return {{"source", change.source}, {"change", change.change}, {"line", change.line}, {"fault_id", change.fault_id}};
}

json container_to_json(const ContainerRecord& container) {
  return {{"runtime", container.runtime}, {"id", container.id}, {"name", container.name}, {"pid", container.pid},
          {"network_namespace", container.network_namespace}, {"pod_namespace", container.pod_namespace},
          {"pod_name", container.pod_name}};
}

// `leftovers`: what the agents' leftover checks attribute to this fault.
json fault_to_json(const FaultRecord& fault, const std::vector<SystemChangeRecord>& leftovers) {
  const FaultProof& proof = fault.proof;
  json left = json::array();
  for (const auto& change : leftovers) left.push_back(change_to_json(change));
  json record = {{"step", fault.step}, {"agent", fault.agent}, {"node", fault.node}, {"fault_id", fault.fault_id},
          {"kind", fault.kind}, {"backend", fault.backend}, {"detail", fault.detail},
          {"applied_at", format_rfc3339(fault.applied_at)},
          {"expires_at", optional_time(fault.expires_at)},
          {"reverted_at", optional_time(fault.reverted_at)},
          {"revert_reason", fault.revert_reason}, {"ended_early", fault.ended_early},
          {"early_end_detail", fault.early_end_detail},
          {"effect", proof.effect}, {"evidence", proof.evidence},
          {"verified_at", optional_time(proof.verified_at)},
          {"effect_seen_at", optional_time(proof.effect_seen_at)},
          {"gone_verified_at", optional_time(proof.gone_verified_at)},
          {"gone_evidence", proof.gone_evidence},
          {"time_to_effect_seconds", optional_seconds(proof.time_to_effect)},
          {"time_to_gone_seconds", optional_seconds(proof.time_to_gone)},
          {"counters", proof.counters}, {"leftovers", left}};
  // Only a fault in containers has the key: a host fault's record stays as it was.
  if (!fault.containers.empty()) {
    json containers = json::array();
    for (const auto& container : fault.containers) containers.push_back(container_to_json(container));
    record["containers"] = containers;
  }
  return record;
}

json leftovers_to_json(const NodeLeftovers& node) {
  json leftovers = json::array(), foreign = json::array();
  for (const auto& change : node.leftovers) leftovers.push_back(change_to_json(change));
  for (const auto& change : node.foreign) foreign.push_back(change_to_json(change));
  return {{"agent", node.agent}, {"node", node.node}, {"checked", node.checked},
          {"leftovers", leftovers}, {"foreign", foreign}, {"errors", node.errors}};
}

json early_end_to_json(const EarlyEnd& end) {
  return {{"agent", end.agent}, {"node", end.node}, {"fault_id", end.fault_id}, {"kind", end.kind},
          {"reason", end.reason}, {"detail", end.detail}};
}

json outcome_to_json(const RunOutcome& outcome) {
  json ended_early = json::array();
  for (const auto& end : outcome.ended_early) ended_early.push_back(early_end_to_json(end));
  return {{"result", verdict_name(outcome.verdict)}, {"exit_code", exit_code(outcome.verdict)},
          {"reason", outcome.reason}, {"failed_checks", outcome.failed_checks},
          {"aborted_by", outcome.aborted_by}, {"recovery_measured", outcome.recovery_measured},
          {"recovered", outcome.recovered},
          {"time_to_recovery_seconds",
           outcome.time_to_recovery ? json(seconds(*outcome.time_to_recovery)) : json()},
          {"last_revert_at", outcome.last_revert_at ? json(format_rfc3339(*outcome.last_revert_at)) : json()},
          {"recovered_at", outcome.recovered_at ? json(format_rfc3339(*outcome.recovered_at)) : json()},
          {"unreverted", outcome.unreverted}, {"ended_early", ended_early},
          {"leftovers", outcome.leftovers}, {"foreign_changes", outcome.foreign_changes},
          {"time_to_detect_seconds", optional_seconds(outcome.time_to_detect)},
          {"detected_at", optional_time(outcome.detected_at)},
          {"detected_by", outcome.detected_by.empty()
                              ? json()
                              : json{{"name", outcome.detected_by}, {"kind", outcome.detected_by_kind}}},
          {"recovery_resolution_seconds",
           outcome.recovery_resolution.count() > 0 ? json(seconds(outcome.recovery_resolution)) : json()},
          {"recovery_source", outcome.recovery_from_range_data ? json("prometheus_range")
                              : outcome.time_to_recovery        ? json("recovery_checks")
                                                                : json()},
          {"detect_source", outcome.detection_from_range_data ? json("prometheus_range") : json()}};
}

json finding_to_json(const Finding& finding) {
  return {{"observed", finding.observed}, {"mechanism", finding.mechanism}, {"remedy", finding.remedy},
          {"remedied_by", finding.remedied_by.empty() ? json() : json(finding.remedied_by)}};
}

// threshold and value are null when not finite (JSON has no NaN/Inf);
// value_text keeps what was seen.
json first_violation_to_json(const FirstViolation& violation) {
  return {{"name", violation.name}, {"phase", violation.phase}, {"kind", violation.kind},
          {"query", violation.query}, {"comparator", comparator_symbol(violation.comparator)},
          {"threshold", finite_or_null(violation.threshold)}, {"value", finite_or_null(violation.value)},
          {"value_text", violation.value_text}, {"error", violation.error},
          {"at", format_rfc3339(violation.at)},
          {"seconds_after_inject", finite_or_null(violation.seconds_after_inject)},
          {"summary", describe(violation)}};
}

}  // namespace

json experiment_to_json(const Experiment& experiment) {
  json checks = json::array(), aborts = json::array(), method = json::array(), agents = json::array();
  for (const auto& check : experiment.steady_state) {
    json item = condition_to_json(check.condition);
    json phases = json::array();
    for (auto phase : {Phase::kBefore, Phase::kDuring, Phase::kAfter}) {
      if (check.applies_to(phase)) phases.push_back(phase_name(phase));
    }
    item["phases"] = phases;
    checks.push_back(item);
  }
  for (const auto& abort : experiment.aborts) aborts.push_back(condition_to_json(abort.condition));
  for (const auto& step : experiment.method) method.push_back(step_to_json(step));
  for (const auto& agent : experiment.agents) agents.push_back(agent_to_json(agent));
  const Settings& settings = experiment.settings;
  json result = {{"source", experiment.source_path}, {"title", experiment.title},
          {"description", experiment.description}, {"tags", experiment.tags},
          {"hypothesis", experiment.hypothesis}, {"prometheus_url", experiment.prometheus_url},
          {"inventory", experiment.inventory_path}, {"agents", agents},
          {"settings", {{"lease_ttl", format_duration(settings.lease_ttl)},
                        {"during_interval", format_duration(settings.during_interval)},
                        {"preflight_timeout", format_duration(settings.preflight_timeout)},
                        {"verify", verify_mode_name(settings.verify)},
                        {"recovery_step", format_duration(settings.recovery_step)}}},
          {"steady_state", checks}, {"abort", aborts}, {"method", method},
          {"method_duration_seconds", seconds(experiment.method_duration())},
          {"recovery_within",
           experiment.recovery_within ? json(format_duration(*experiment.recovery_within)) : json()}};
  // Only an experiment with [[compare]] checks has the key.
  if (!experiment.compare.empty()) {
    result["compare"] = json::array();
    for (const auto& check : experiment.compare) result["compare"].push_back(compare_to_json(check));
  }
  // Issue 23: only an experiment with [lab] flags or a [finding] has the keys.
  if (!experiment.lab.probe_flags.empty()) result["lab"] = {{"probe_flags", experiment.lab.probe_flags}};
  if (experiment.finding) result["finding"] = finding_to_json(*experiment.finding);
  return result;
}

json journal_to_json(const Experiment& experiment, const RunIdentity& identity, const RunJournal& journal,
                     const RunOutcome& outcome, const RunTimes& times) {
  json events = json::array(), evaluations = json::array(), faults = json::array();
  for (const auto& event : journal.events()) {
    events.push_back({{"at", format_rfc3339(event.at)}, {"type", event.type}, {"message", event.message}});
  }
  for (const auto& record : journal.evaluations()) evaluations.push_back(evaluation_to_json(record));
  json leftover_checks = json::array();
  std::map<std::string, std::vector<SystemChangeRecord>> left_by_fault;  // fault ids are unique across agents
  for (const auto& node : journal.leftovers()) {
    leftover_checks.push_back(leftovers_to_json(node));
    for (const auto& change : node.leftovers) {
      if (!change.fault_id.empty()) left_by_fault[change.fault_id].push_back(change);
    }
  }
  const auto fault_records = journal.faults();
  const auto first_violation = find_first_violation(journal.evaluations(), first_inject_time(fault_records));
  json verdict = outcome_to_json(outcome);
  verdict["first_violation"] = first_violation ? first_violation_to_json(*first_violation) : json();
  for (const auto& fault : fault_records) {
    const auto left = left_by_fault.find(fault.fault_id);
    faults.push_back(fault_to_json(fault, left == left_by_fault.end() ? std::vector<SystemChangeRecord>{} : left->second));
  }
  return {{"schema", "chaos.journal/v1"},
          {"experiment", experiment_to_json(experiment)},
          {"run", {{"experiment_id", identity.experiment_id}, {"lease_id", identity.lease_id},
                   {"started_at", format_rfc3339(times.started)}, {"finished_at", format_rfc3339(times.finished)},
                   {"duration_seconds", seconds(times.finished - times.started)}}},
          {"events", events}, {"evaluations", evaluations}, {"faults", faults},
          {"leftover_checks", leftover_checks},
          {"verdict", verdict}};
}

Status write_report_file(const std::string& dir, const std::string& name, const std::string& text) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return internal_error("cannot create report directory " + dir + ": " + ec.message());
  const std::string path = dir + "/" + name;
  const std::string temporary = path + ".tmp";
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    out << text;
    if (!out.flush()) return internal_error("cannot write " + temporary);
  }
  std::filesystem::rename(temporary, path, ec);
  if (ec) return internal_error("cannot rename " + temporary + " to " + path + ": " + ec.message());
  return {};
}

}  // namespace chaos::orchestrator
