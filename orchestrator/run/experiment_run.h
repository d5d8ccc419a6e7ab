// The run as an ordered list of steps with a teardown that always runs:
//   preflight -> steady state before -> method (inject, watch during-checks
//   and abort conditions, revert each fault when its time is up)
//   -> revert everything (always: success, violation, abort, error, Ctrl-C,
//      and an exception, which makes the verdict an error)
//   -> recovery window -> after checks -> time to detect and to recovery
//      from Prometheus range data -> verdict.
// A fault that ended on its agent before its time (lease lost, agent shut
// down, ...) turns a run that would have held into an error: the faults did
// not run as designed. It never changes violated or aborted.
// Time comes from the injected Clock and Ctrl-C from an atomic flag, so the
// whole state machine is unit-tested with fakes and no sleeping.
#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <string>

#include "common/clock.h"
#include "orchestrator/run/agent_pool.h"
#include "orchestrator/experiment/experiment.h"
#include "orchestrator/run/fault_ledger.h"
#include "orchestrator/run/recovery_timing.h"
#include "orchestrator/clients/prometheus_client.h"
#include "orchestrator/run/run_journal.h"
#include "orchestrator/run/run_outcome.h"

namespace chaos::orchestrator {

struct RunContext {
  const Experiment& experiment;
  PrometheusClient& prometheus;
  AgentClientFactory& agents;
  Clock& clock;
  RunJournal& journal;
  // Set from the SIGINT/SIGTERM watcher; the run notices within a slice.
  const std::atomic<bool>& interrupted;
  RunIdentity identity;
  // Teardown retries RevertAll this long before declaring agents unconfirmed
  // (their leases then expire and the agents revert on their own).
  std::chrono::nanoseconds revert_give_up_after = std::chrono::seconds(60);
  std::chrono::nanoseconds revert_retry_pause = std::chrono::seconds(1);
};

// "Kill one broker!" -> "kill-one-broker" (ASCII letters and digits, at
// most about 40 characters; empty when the title has none).
std::string title_slug(const std::string& title);

// "kill-one-broker-20261123T091500-3f2a"
std::string make_experiment_id(const std::string& title, WallTime now, uint32_t random);

class ExperimentRun {
 public:
  explicit ExperimentRun(RunContext context);
  RunOutcome run();

 private:
  enum class WatchResult { kCompleted, kAborted, kInterrupted };
  // Calls teardown() when it goes out of scope, however that happens.
  class TeardownOnExit;

  void run_steps();
  void internal_failure(const std::string& what);
  bool steps_before_method();
  WatchResult execute_method();
  WatchResult watch_until(SteadyTime end, const std::string& phase);
  bool steady_state_holds(Phase phase, const std::string& label, bool count_failures);
  bool abort_condition_fired();
  void teardown();
  void note_leftovers();
  void measure_recovery();
  void measure_range_timing(WallTime run_end);
  void wait_for_samples_up_to(WallTime end);
  bool time_detection(const RangeGrid& grid);
  bool time_recovery(const RangeGrid& grid);
  void judge_recovery();
  WallTime last_revert_time() const;
  void note_interrupt();
  void fail(Verdict verdict, const std::string& reason);
  RunOutcome finish();

  RunContext context_;
  AgentPool pool_;
  FaultLedger ledger_;
  RunOutcome outcome_;
  std::map<std::string, std::string> failures_;  // "name [phase]" -> first failure
  SteadyTime next_check_{};
  // When a recovery check first saw every after-check hold: ends the
  // recovery phase, and is the figure when range data is unavailable.
  std::optional<WallTime> first_recovery_check_at_;
  bool torn_down_ = false;
};

}  // namespace chaos::orchestrator
