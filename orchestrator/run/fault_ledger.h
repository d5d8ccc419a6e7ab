// The faults a run has live on its agents: injects a step group on all its
// targets concurrently, reverts each fault when its duration is over, keeps
// the run's lease alive, notices faults that ended on their agent before
// their time, and at the end reverts everything of the experiment on every
// agent it touched, retrying until each one confirms.
#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "orchestrator/run/agent_pool.h"
#include "orchestrator/experiment/experiment.h"
#include "orchestrator/run/run_journal.h"
#include "orchestrator/run/run_outcome.h"

namespace chaos::orchestrator {

struct RunIdentity {
  std::string experiment_id;
  std::string lease_id;
  std::chrono::nanoseconds lease_ttl{std::chrono::seconds(10)};
};

class FaultLedger {
 public:
  FaultLedger(AgentPool& pool, RunJournal& journal, Clock& clock, RunIdentity identity)
      : pool_(pool), journal_(journal), clock_(clock), identity_(std::move(identity)) {}

  // Injects every fault step of `group` on all of its targets at once. On
  // error the faults that did apply stay recorded for revert_everything().
  Status inject_group(const StepGroup& group, size_t group_index);

  // Reverts the faults whose duration is over (failures retry next call).
  // An agent answering that the fault already ended for another reason than
  // its TTL or a request records an early end.
  void revert_expired();
  // Every lease_ttl/3: renews the lease on every agent with live faults and
  // lists the experiment's faults there. A lease the agent no longer knows
  // (NOT_FOUND), a fault ended for another reason than its TTL or a request,
  // or a fault missing from the list records an early end.
  void renew_lease_if_due();
  // The earliest moment revert_expired() or renew_lease_if_due() has work.
  SteadyTime next_due() const;
  bool has_live_faults() const;

  // RevertAll(experiment) on every touched agent until each confirms or
  // `give_up_after` passes. An agent confirms when the call succeeds and
  // every fault it returns is REVERTED. Returns "agent: reason" for agents
  // that never answered and "agent: fault id (kind) STATE: detail" for each
  // fault still not reverted at the end.
  std::vector<std::string> revert_everything(std::chrono::nanoseconds give_up_after,
                                             std::chrono::nanoseconds retry_pause);

  // Faults that ended on their agent before the run meant them to.
  std::vector<EarlyEnd> early_ends() const;

 private:
  struct LiveFault {
    std::string agent;
    std::string node;
    std::string fault_id;
    std::string kind;
    SteadyTime ends_at;
    bool reverted = false;
  };
  struct Injection {
    const MethodStep* step;
    std::string agent;
    std::string node;
    std::string request_id;
  };

  v1::InjectRequest inject_request(const Injection& injection) const;
  // Journals one inject's answer and records a fault that was applied.
  Status record_injection(const Injection& injection, const StatusOr<v1::Fault>& fault);
  // Compares the faults this run still considers live on `agent` with what
  // the agent reported. With `lease_lost`, faults still live there end
  // early too (their lease is gone, so the agent is reverting them).
  void reconcile(const std::string& agent, const std::vector<v1::Fault>& reported, bool lease_lost,
                 const std::string& lease_detail);
  void end_normally(const std::string& agent, const std::string& fault_id, const std::string& reason);
  // What an agent's answer says about the fault's effect, into the journal.
  void record_proof(const std::string& agent, const v1::Fault& fault);
  std::string node_of(const std::string& agent) const;
  void end_early(const std::string& agent, const std::string& fault_id, std::string reason, std::string detail);
  std::vector<std::string> live_ids_on(const std::string& agent) const;

  AgentPool& pool_;
  RunJournal& journal_;
  Clock& clock_;
  RunIdentity identity_;
  mutable std::mutex mutex_;
  std::vector<LiveFault> live_;
  std::set<std::string> touched_agents_;
  std::vector<EarlyEnd> early_ends_;
  SteadyTime next_renewal_{};
};

}  // namespace chaos::orchestrator
