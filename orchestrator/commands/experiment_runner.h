// One experiment run with its real dependencies (Prometheus over HTTP,
// agents over gRPC, the progress printer, the report files), shared by a
// single `chaosctl run` and each run of a suite. It returns everything a
// caller needs afterwards (verdict, times, identity, report dir), and runs
// the "after each run" hooks (history, notifications) in one place.
#pragma once

#include <atomic>
#include <functional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "orchestrator/clients/agent_client.h"
#include "orchestrator/clients/prometheus_client.h"
#include "orchestrator/experiment/experiment.h"
#include "orchestrator/run/run_journal.h"
#include "orchestrator/run/run_record.h"

namespace chaos::orchestrator {

// The experiment's Prometheus ([prometheus]: TLS, credentials), with the
// preflight timeout on every query.
StatusOr<std::unique_ptr<PrometheusClient>> make_experiment_prometheus_client(const Experiment& experiment);

// Called after each run once its report files are written, before the
// verdict is printed: history recording, verdict notifications.
using AfterRunHook = std::function<void(const RunRecord& record, const RunJournal& journal)>;

struct RunnerOptions {
  std::string output = "text";  // "text" or "json" (chaosctl --output)
  std::vector<AfterRunHook> after_run;
  // Prints the verdict: after the hooks, before the notifications are
  // drained (which may take up to RunNotifier::kDrainCap).
  std::function<void(const RunRecord& record)> on_verdict;
  // Added to every run's journal next to the progress printer (live
  // notifications: start, abort). Not owned; must outlive the runner.
  std::vector<RunObserver*> observers;
};

class ExperimentRunner final : public ExperimentRunnerInterface {
 public:
  // `interrupted` comes from the one InterruptWatcher of the process.
  ExperimentRunner(Clock& clock, const std::atomic<bool>& interrupted, RunnerOptions options)
      : clock_(clock), interrupted_(interrupted), options_(std::move(options)), agents_(kDefaultAgentDeadline) {}
  // Runs `experiment` and writes journal.json, junit.xml and report.html to
  // `report_dir` (when not empty).
  RunRecord run(const Experiment& experiment, const std::string& report_dir) override;

 private:
  Clock& clock_;
  const std::atomic<bool>& interrupted_;
  RunnerOptions options_;
  static constexpr std::chrono::milliseconds kDefaultAgentDeadline{5000};
  GrpcAgentClientFactory agents_;  // channels kept open across the runs
};

}  // namespace chaos::orchestrator
