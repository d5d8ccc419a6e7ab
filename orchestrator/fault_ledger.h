// The faults a run has live on its agents: injects a step group on all its
// targets concurrently, reverts each fault when its duration is over, keeps
// the run's lease alive, and at the end reverts everything of the
// experiment on every agent it touched, retrying until each one confirms.
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
#include "orchestrator/agent_pool.h"
#include "orchestrator/experiment.h"
#include "orchestrator/run_journal.h"

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
  void revert_expired();
  // Renews the lease on every agent with live faults every lease_ttl/3.
  void renew_lease_if_due();
  // The earliest moment revert_expired() or renew_lease_if_due() has work.
  SteadyTime next_due() const;
  bool has_live_faults() const;

  // RevertAll(experiment) on every touched agent until each confirms or
  // `give_up_after` passes; returns "agent: reason" for agents that never
  // confirmed. `interrupted` shortens the pause between retries only.
  std::vector<std::string> revert_everything(std::chrono::nanoseconds give_up_after,
                                             std::chrono::nanoseconds retry_pause);

 private:
  struct LiveFault {
    std::string agent;
    std::string fault_id;
    SteadyTime ends_at;
    bool reverted = false;
  };
  struct Injection {
    const MethodStep* step;
    std::string agent;
    std::string node;
    std::string request_id;
  };

  Status inject_one(const Injection& injection);

  AgentPool& pool_;
  RunJournal& journal_;
  Clock& clock_;
  RunIdentity identity_;
  mutable std::mutex mutex_;
  std::vector<LiveFault> live_;
  std::set<std::string> touched_agents_;
  SteadyTime next_renewal_{};
};

}  // namespace chaos::orchestrator
