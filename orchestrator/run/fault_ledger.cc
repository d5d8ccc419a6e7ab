#include "orchestrator/run/fault_ledger.h"

#include <algorithm>
#include <optional>

#include "common/duration.h"
#include "orchestrator/experiment/fault_spec_builder.h"
#include "orchestrator/run/fault_proof.h"

namespace chaos::orchestrator {

namespace {

// The ends a run plans for: the fault's own TTL, or a revert somebody asked
// for (the run itself, or a person with `chaosctl revert`). Every other
// reason ("lease", "shutdown", "recovery", "engine_failed", ...) means the
// fault did not live as long as the experiment assumed.
bool planned_end(const std::string& reason) { return reason == "ttl" || reason == "request"; }

}  // namespace

v1::InjectRequest FaultLedger::inject_request(const Injection& injection) const {
  v1::InjectRequest request;
  request.set_experiment_id(identity_.experiment_id);
  request.set_lease_id(identity_.lease_id);
  set_proto_duration(identity_.lease_ttl, request.mutable_lease_ttl());
  set_proto_duration(injection.step->duration, request.mutable_duration());
  *request.mutable_spec() = injection.step->spec;
  request.set_request_id(injection.request_id);
  request.set_verify(injection.step->verify);
  return request;
}

Status FaultLedger::record_injection(const Injection& injection, const StatusOr<v1::Fault>& fault) {
  if (!fault.ok()) {
    journal_.event("error", "inject " + injection.step->kind + " (" + injection.step->name + ") on " +
                                injection.agent + " failed: " + fault.status().message());
    return fault.status();
  }
  FaultRecord record;
  record.step = injection.step->name;
  record.agent = injection.agent;
  record.node = fault->node_name().empty() ? injection.node : fault->node_name();
  record.fault_id = fault->id();
  record.kind = fault->kind().empty() ? injection.step->kind : fault->kind();
  record.backend = fault->backend();
  record.detail = fault->detail();
  record.applied_at = wall_time_from_proto(fault->applied_at()).value_or(journal_.now());
  record.expires_at = wall_time_from_proto(fault->expires_at());
  record.proof = proof_of(*fault);
  record.containers = containers_of(*fault);
  journal_.fault_applied(record);
  const std::string effect = describe_effect(*fault);
  std::string in_containers;
  for (const auto& container : fault->containers()) {
    in_containers += (in_containers.empty() ? " in " : ", ") + container.runtime() + " " + container.name();
  }
  journal_.event("inject", injection.step->kind + " (" + injection.step->name + ") on " + injection.agent +
                               " [" + record.node + "]" + in_containers + ": fault " + fault->id() + " via " + fault->backend() +
                               (fault->detail().empty() ? "" : ": " + fault->detail()) +
                               (effect.empty() ? "" : "; effect " + effect));
  std::lock_guard lock(mutex_);
  live_.push_back({injection.agent, record.node, fault->id(), record.kind,
                   clock_.steady_now() + injection.step->duration});
  return {};
}

Status FaultLedger::inject_group(const StepGroup& group, size_t group_index) {
  std::vector<Injection> injections;
  for (size_t s = 0; s < group.steps.size(); ++s) {
    const MethodStep& step = group.steps[s];
    if (step.is_wait()) continue;
    for (const auto& target : step.targets) {
      injections.push_back({&step, target.address, target.node,
                            identity_.experiment_id + "/" + std::to_string(group_index) + "." +
                                std::to_string(s) + "/" + target.address});
    }
  }
  {
    std::lock_guard lock(mutex_);
    // Touched before the call: an inject that timed out may still have applied.
    for (const auto& injection : injections) touched_agents_.insert(injection.agent);
    if (live_.empty()) next_renewal_ = clock_.steady_now() + identity_.lease_ttl / 3;
  }
  std::vector<std::string> agents;
  std::vector<v1::InjectRequest> requests;
  for (const auto& injection : injections) {
    agents.push_back(injection.agent);
    requests.push_back(inject_request(injection));
  }
  const auto faults = pool_.inject(agents, requests);
  Status first_failure;
  for (size_t i = 0; i < injections.size(); ++i) {
    Status status = record_injection(injections[i], faults[i]);
    if (first_failure.ok() && !status.ok()) first_failure = std::move(status);
  }
  return first_failure;
}

void FaultLedger::record_proof(const std::string& agent, const v1::Fault& fault) {
  if (fault.id().empty()) return;
  journal_.fault_proof(agent, fault.id(), proof_of(fault));
}

std::string FaultLedger::node_of(const std::string& agent) const {
  std::lock_guard lock(mutex_);
  for (const auto& fault : live_) {
    if (fault.agent == agent) return fault.node;
  }
  return "";
}

void FaultLedger::end_normally(const std::string& agent, const std::string& fault_id, const std::string& reason) {
  {
    std::lock_guard lock(mutex_);
    for (auto& live : live_) {
      if (live.agent == agent && live.fault_id == fault_id) live.reverted = true;
    }
  }
  journal_.fault_reverted(agent, fault_id, reason);
}

void FaultLedger::end_early(const std::string& agent, const std::string& fault_id, std::string reason,
                            std::string detail) {
  if (reason.empty()) reason = "unknown";
  EarlyEnd end;
  {
    std::lock_guard lock(mutex_);
    auto live = std::find_if(live_.begin(), live_.end(), [&](const LiveFault& fault) {
      return fault.agent == agent && fault.fault_id == fault_id && !fault.reverted;
    });
    if (live == live_.end()) return;  // its end is known already
    live->reverted = true;
    end = {agent, live->node, fault_id, live->kind, std::move(reason), std::move(detail)};
    early_ends_.push_back(end);
  }
  journal_.fault_ended_early(agent, fault_id, end.reason, end.detail);
  journal_.event("early_end", describe(end));
}

std::vector<EarlyEnd> FaultLedger::early_ends() const {
  std::lock_guard lock(mutex_);
  return early_ends_;
}

std::vector<std::string> FaultLedger::live_ids_on(const std::string& agent) const {
  std::lock_guard lock(mutex_);
  std::vector<std::string> ids;
  for (const auto& fault : live_) {
    if (fault.agent == agent && !fault.reverted) ids.push_back(fault.fault_id);
  }
  return ids;
}

void FaultLedger::revert_expired() {
  std::vector<LiveFault> due;
  {
    std::lock_guard lock(mutex_);
    for (const auto& fault : live_) {
      if (!fault.reverted && fault.ends_at <= clock_.steady_now()) due.push_back(fault);
    }
  }
  std::vector<std::string> agents;
  std::vector<std::string> fault_ids;
  for (const auto& fault : due) {
    agents.push_back(fault.agent);
    fault_ids.push_back(fault.fault_id);
  }
  const auto answers = pool_.revert(agents, fault_ids);
  for (size_t i = 0; i < due.size(); ++i) {
    const LiveFault& fault = due[i];
    const StatusOr<v1::RevertResponse>& answer = answers[i];
    if (!answer.ok()) {
      journal_.event("error", "revert of fault " + fault.fault_id + " on " + fault.agent +
                                  " failed (will retry): " + answer.status().message());
      // Retry in a second rather than on every pass of the watch loop.
      std::lock_guard lock(mutex_);
      for (auto& live : live_) {
        if (live.agent == fault.agent && live.fault_id == fault.fault_id) {
          live.ends_at = clock_.steady_now() + std::chrono::seconds(1);
        }
      }
      continue;
    }
    record_proof(fault.agent, answer->fault());
    const std::string& reason = answer->fault().revert_reason();
    if (answer->already_reverted() && !planned_end(reason)) {
      // An empty reason: the agent does not know the id at all.
      end_early(fault.agent, fault.fault_id, reason,
                reason.empty() ? "the agent no longer knows this fault (it restarted, or the fault ended long ago)"
                               : answer->fault().detail());
      continue;
    }
    end_normally(fault.agent, fault.fault_id, "duration");
    journal_.event("revert", "fault " + fault.fault_id + " on " + fault.agent + " reverted (duration over" +
                                 (answer->already_reverted() ? ", already ended by " + reason : std::string()) +
                                 ")");
  }
}

bool FaultLedger::has_live_faults() const {
  std::lock_guard lock(mutex_);
  return std::any_of(live_.begin(), live_.end(), [](const LiveFault& fault) { return !fault.reverted; });
}

void FaultLedger::reconcile(const std::string& agent, const std::vector<v1::Fault>& reported, bool lease_lost,
                            const std::string& lease_detail) {
  for (const auto& id : live_ids_on(agent)) {
    const auto found =
        std::find_if(reported.begin(), reported.end(), [&](const v1::Fault& fault) { return fault.id() == id; });
    if (found == reported.end()) {
      if (lease_lost) end_early(agent, id, "lease", lease_detail);
      else end_early(agent, id, "missing", "no longer in the agent's list of faults (the agent restarted or lost it)");
      continue;
    }
    record_proof(agent, *found);
    const std::string& reason = found->revert_reason();
    if (!reason.empty() && !planned_end(reason)) {
      end_early(agent, id, reason, found->detail());
    } else if (found->state() == v1::FAULT_STATE_REVERTED) {
      end_normally(agent, id, reason.empty() ? "ended" : reason);
      journal_.event("revert", "fault " + id + " on " + agent + " ended on the agent (" + reason + ")");
    } else if (lease_lost) {
      end_early(agent, id, "lease", lease_detail);
    }
  }
}

void FaultLedger::renew_lease_if_due() {
  std::vector<std::string> agents;
  {
    std::lock_guard lock(mutex_);
    if (clock_.steady_now() < next_renewal_) return;
    next_renewal_ = clock_.steady_now() + identity_.lease_ttl / 3;
    std::set<std::string> with_live;
    for (const auto& fault : live_) {
      if (!fault.reverted) with_live.insert(fault.agent);
    }
    agents.assign(with_live.begin(), with_live.end());
  }
  // Listed after every renewal has answered: a fault the list still shows
  // live then has a lease that was just extended.
  const auto renewals = pool_.renew_lease(agents, identity_.lease_id, identity_.lease_ttl);
  const auto lists = pool_.list(agents, identity_.experiment_id, true);
  for (size_t i = 0; i < agents.size(); ++i) {
    const Status renewal = renewals[i].status();
    const bool lease_lost = renewal.code() == StatusCode::kNotFound;
    if (lease_lost) {
      journal_.event("lease", "lease " + identity_.lease_id + " is gone on " + agents[i] +
                                  " (its faults were reverted by the agent): " + renewal.message());
    } else if (!renewal.ok()) {
      journal_.event("lease", "lease renewal failed: " + renewal.message());
    }
    if (lists[i].ok()) {
      reconcile(agents[i], *lists[i], lease_lost, renewal.message());
    } else if (lease_lost) {
      reconcile(agents[i], {}, true, renewal.message());
    } else {
      journal_.event("lease", "cannot list the faults on " + agents[i] + ": " + lists[i].status().message());
    }
  }
}

SteadyTime FaultLedger::next_due() const {
  std::lock_guard lock(mutex_);
  SteadyTime due = SteadyTime::max();
  for (const auto& fault : live_) {
    if (!fault.reverted) due = std::min(due, fault.ends_at);
  }
  if (due != SteadyTime::max()) due = std::min(due, next_renewal_);
  return due;
}

std::vector<std::string> FaultLedger::revert_everything(std::chrono::nanoseconds give_up_after,
                                                        std::chrono::nanoseconds retry_pause) {
  std::vector<std::string> pending;
  {
    std::lock_guard lock(mutex_);
    pending.assign(touched_agents_.begin(), touched_agents_.end());
  }
  const SteadyTime give_up_at = clock_.steady_now() + give_up_after;
  std::map<std::string, std::vector<std::string>> last_problems;  // agent -> why it has not confirmed
  std::map<std::string, std::set<std::string>> answered;          // agent -> fault ids RevertAll returned
  std::vector<std::string> confirmed;
  for (int attempt = 1; !pending.empty(); ++attempt) {
    const auto results = pool_.revert_all(pending, identity_.experiment_id);
    std::vector<std::string> still_pending;
    for (size_t i = 0; i < pending.size(); ++i) {
      const std::string& agent = pending[i];
      std::vector<std::string>& problems = last_problems[agent];
      problems.clear();
      if (!results[i].ok()) {
        problems.push_back(agent + ": " + results[i].status().message());
        still_pending.push_back(agent);
        continue;
      }
      for (const auto& fault : results[i]->faults()) {
        answered[agent].insert(fault.id());
        record_proof(agent, fault);
        if (fault.state() != v1::FAULT_STATE_REVERTED) {
          problems.push_back(agent + ": " + describe_fault_state(fault));
          continue;
        }
        if (!fault.revert_reason().empty() && !planned_end(fault.revert_reason())) {
          end_early(agent, fault.id(), fault.revert_reason(), fault.detail());
        }
        end_normally(agent, fault.id(), "revert_all");
      }
      // Compared by the agent once none of the experiment's faults is live
      // there; an agent that predates the check sends none.
      if (results[i]->has_leftovers()) {
        journal_.leftovers(leftovers_of(agent, node_of(agent), results[i]->leftovers()));
      }
      if (!problems.empty()) {
        if (attempt == 1) {
          for (const auto& problem : problems) journal_.event("error", "revert not confirmed: " + problem);
        }
        still_pending.push_back(agent);
        continue;
      }
      confirmed.push_back(agent);
      journal_.event("revert", "agent " + agent + " confirmed revert of every fault of the experiment" +
                                   (attempt > 1 ? " (attempt " + std::to_string(attempt) + ")" : ""));
    }
    pending = std::move(still_pending);
    if (pending.empty() || clock_.steady_now() + retry_pause > give_up_at) break;
    journal_.event("revert", std::to_string(pending.size()) + " agent(s) did not confirm; retrying in " +
                                 format_duration(retry_pause));
    clock_.sleep_until(clock_.steady_now() + retry_pause);
  }
  // Faults this run still took for live that RevertAll did not return had
  // already ended on their agent: ask how, so an early end is not missed.
  std::vector<std::string> to_ask;
  for (const auto& agent : confirmed) {
    for (const auto& id : live_ids_on(agent)) {
      if (answered[agent].count(id) == 0) {
        to_ask.push_back(agent);
        break;
      }
    }
  }
  const auto listed = pool_.list(to_ask, identity_.experiment_id, true);
  for (size_t i = 0; i < to_ask.size(); ++i) {
    if (listed[i].ok()) reconcile(to_ask[i], *listed[i], false, "");
  }
  std::vector<std::string> unconfirmed;
  for (const auto& agent : pending) {
    for (const auto& problem : last_problems[agent]) unconfirmed.push_back(problem);
  }
  std::lock_guard lock(mutex_);
  for (auto& fault : live_) fault.reverted = true;
  return unconfirmed;
}

}  // namespace chaos::orchestrator
