// A suite's experiments, serially: "experiment 2/3: <title>", a settle gate
// before each one after the first (its before-checks must hold again within
// the settle timeout), one run each, and the worst verdict for the exit
// code (held 0 < violated 1 < aborted 2 < error 3).
//
// An experiment whose steady state never settles is not run and counts as
// an error: its hypothesis was never tested, and the system was not in the
// state the experiment assumes. --fail-fast stops after the first run that
// did not hold (default: keep going). Ctrl-C interrupts the current run,
// which reverts as always, and the rest are reported as not run.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "common/clock.h"
#include "orchestrator/clients/prometheus_client.h"
#include "orchestrator/run/run_record.h"
#include "orchestrator/suite/suite.h"

namespace chaos::orchestrator {

// One loaded experiment of the suite with its settle timeout resolved.
struct SuiteItem {
  Experiment experiment;
  std::chrono::nanoseconds settle_timeout{0};
};

// Prometheus for an experiment's settle gate (its URL and token).
using SettlePrometheusFactory =
    std::function<StatusOr<std::unique_ptr<PrometheusClient>>(const Experiment& experiment)>;

struct SuiteContext {
  Clock& clock;
  const std::atomic<bool>& interrupted;
  ExperimentRunnerInterface& runner;
  SettlePrometheusFactory prometheus;
  std::ostream& out;  // progress lines
  std::string report_dir;  // empty: no report files
};

enum class SuiteRunState { kRan, kNotSettled, kNotRun };

struct SuiteRunResult {
  std::string title;
  std::string run_dir;  // "01-kill-one-broker", under the suite's report dir
  SuiteRunState state = SuiteRunState::kNotRun;
  std::optional<RunRecord> record;  // kRan
  std::string reason;               // kNotSettled, kNotRun: why
  std::chrono::nanoseconds settle_waited{0};
  // kRan: the run's verdict; kNotSettled: error; kNotRun: none.
  std::optional<Verdict> verdict() const;
};

struct SuiteOutcome {
  std::string title;
  std::vector<SuiteRunResult> runs;
  Verdict worst = Verdict::kHeld;
  bool interrupted = false;
  WallTime started{};
  WallTime finished{};
};

// "01-kill-one-broker" (1-based, two digits up to 99).
std::string suite_run_dir(size_t index, const std::string& title);

class SuiteRun {
 public:
  SuiteRun(SuiteContext context, std::string title, std::chrono::nanoseconds settle_interval, bool fail_fast)
      : context_(std::move(context)), title_(std::move(title)), settle_interval_(settle_interval),
        fail_fast_(fail_fast) {}
  SuiteOutcome run(const std::vector<SuiteItem>& items);

 private:
  bool settle(const SuiteItem& item, SuiteRunResult& result);

  SuiteContext context_;
  std::string title_;
  std::chrono::nanoseconds settle_interval_;
  bool fail_fast_;
};

// The summary after the last run: the suite verdict, then one line per
// experiment with its verdict (or why it did not run).
void print_suite_summary(std::ostream& out, const SuiteOutcome& outcome);

}  // namespace chaos::orchestrator
