#include "orchestrator/fault_ledger.h"

#include <algorithm>

#include "common/duration.h"
#include "orchestrator/fault_spec_builder.h"

namespace chaos::orchestrator {

namespace {

std::optional<WallTime> wall_time(const google::protobuf::Timestamp& timestamp) {
  if (timestamp.seconds() == 0 && timestamp.nanos() == 0) return std::nullopt;
  return WallTime(std::chrono::duration_cast<WallTime::duration>(
      std::chrono::seconds(timestamp.seconds()) + std::chrono::nanoseconds(timestamp.nanos())));
}

}  // namespace

Status FaultLedger::inject_one(const Injection& injection) {
  v1::InjectRequest request;
  request.set_experiment_id(identity_.experiment_id);
  request.set_lease_id(identity_.lease_id);
  set_proto_duration(identity_.lease_ttl, request.mutable_lease_ttl());
  set_proto_duration(injection.step->duration, request.mutable_duration());
  *request.mutable_spec() = injection.step->spec;
  request.set_request_id(injection.request_id);
  auto fault = pool_.client(injection.agent).inject(request);
  if (!fault.ok()) {
    journal_.event("error", "inject " + injection.step->kind + " (" + injection.step->name + ") on " +
                                injection.agent + " failed: " + fault.status().message());
    return fault.status();
  }
  FaultRecord record{injection.step->name, injection.agent, fault->node_name().empty() ? injection.node
                                                                                      : fault->node_name(),
                     fault->id(), fault->kind(), fault->backend(), fault->detail(),
                     wall_time(fault->applied_at()).value_or(journal_.now()), wall_time(fault->expires_at()),
                     std::nullopt, ""};
  journal_.fault_applied(record);
  journal_.event("inject", injection.step->kind + " (" + injection.step->name + ") on " + injection.agent +
                               " [" + record.node + "]: fault " + fault->id() + " via " + fault->backend() +
                               (fault->detail().empty() ? "" : ": " + fault->detail()));
  std::lock_guard lock(mutex_);
  live_.push_back({injection.agent, fault->id(), clock_.steady_now() + injection.step->duration});
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
  std::vector<std::future<Status>> pending;
  for (const auto& injection : injections) {
    pending.push_back(std::async(std::launch::async, [this, &injection] { return inject_one(injection); }));
  }
  Status first_error;
  for (auto& future : pending) {
    Status status = future.get();
    if (!status.ok() && first_error.ok()) first_error = status;
  }
  return first_error;
}

void FaultLedger::revert_expired() {
  std::vector<LiveFault> due;
  {
    std::lock_guard lock(mutex_);
    for (const auto& fault : live_) {
      if (!fault.reverted && fault.ends_at <= clock_.steady_now()) due.push_back(fault);
    }
  }
  for (const LiveFault& due_fault : due) {
    const LiveFault* fault = &due_fault;
    auto answer = pool_.client(fault->agent).revert(fault->fault_id);
    if (!answer.ok()) {
      journal_.event("error", "revert of fault " + fault->fault_id + " on " + fault->agent +
                                  " failed (will retry): " + answer.status().message());
      // Retry in a second rather than on every pass of the watch loop.
      std::lock_guard lock(mutex_);
      for (auto& live : live_) {
        if (live.agent == fault->agent && live.fault_id == fault->fault_id) {
          live.ends_at = clock_.steady_now() + std::chrono::seconds(1);
        }
      }
      continue;
    }
    journal_.fault_reverted(fault->agent, fault->fault_id, "duration");
    journal_.event("revert", "fault " + fault->fault_id + " on " + fault->agent + " reverted (duration over)");
    std::lock_guard lock(mutex_);
    for (auto& live : live_) {
      if (live.agent == fault->agent && live.fault_id == fault->fault_id) live.reverted = true;
    }
  }
}

bool FaultLedger::has_live_faults() const {
  std::lock_guard lock(mutex_);
  return std::any_of(live_.begin(), live_.end(), [](const LiveFault& fault) { return !fault.reverted; });
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
  const std::function<Status(AgentClient&)> renew = [this](AgentClient& agent) {
    return agent.renew_lease(identity_.lease_id, identity_.lease_ttl).status();
  };
  const auto results = pool_.fan_out(agents, renew);
  for (size_t i = 0; i < agents.size(); ++i) {
    if (!results[i].ok()) journal_.event("lease", "lease renewal failed: " + results[i].message());
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
  std::map<std::string, std::string> last_error;
  const std::function<StatusOr<std::vector<v1::Fault>>(AgentClient&)> revert_all =
      [this](AgentClient& agent) { return agent.revert_all(identity_.experiment_id); };
  for (int attempt = 1; !pending.empty(); ++attempt) {
    const auto results = pool_.fan_out(pending, revert_all);
    std::vector<std::string> still_pending;
    for (size_t i = 0; i < pending.size(); ++i) {
      if (!results[i].ok()) {
        last_error[pending[i]] = results[i].status().message();
        still_pending.push_back(pending[i]);
        continue;
      }
      for (const auto& fault : *results[i]) journal_.fault_reverted(pending[i], fault.id(), "revert_all");
      journal_.event("revert", "agent " + pending[i] + " confirmed revert of every fault of the experiment" +
                                   (attempt > 1 ? " (attempt " + std::to_string(attempt) + ")" : ""));
    }
    pending = std::move(still_pending);
    if (pending.empty() || clock_.steady_now() + retry_pause > give_up_at) break;
    journal_.event("revert", std::to_string(pending.size()) + " agent(s) did not confirm; retrying in " +
                                 format_duration(retry_pause));
    clock_.sleep_until(clock_.steady_now() + retry_pause);
  }
  std::vector<std::string> unconfirmed;
  for (const auto& agent : pending) unconfirmed.push_back(agent + ": " + last_error[agent]);
  std::lock_guard lock(mutex_);
  for (auto& fault : live_) fault.reverted = true;
  return unconfirmed;
}

}  // namespace chaos::orchestrator
