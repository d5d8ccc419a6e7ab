#include "orchestrator/suite/settle_gate.h"

#include <algorithm>

#include "orchestrator/clients/slo_evaluator.h"

namespace chaos::orchestrator {

namespace {

// Every before-check once; returns the failures ("" when all hold).
std::string settle_failures(const Experiment& experiment, PrometheusClient& prometheus) {
  std::string failures;
  for (const auto& check : experiment.steady_state) {
    if (!check.applies_to(Phase::kBefore)) continue;
    const Evaluation evaluation = evaluate(check.condition, prometheus.instant_query(check.condition.query));
    if (evaluation.holds) continue;
    failures += (failures.empty() ? "" : "; ") + check.condition.name + ": " + describe(evaluation);
  }
  return failures;
}

}  // namespace

SettleResult wait_until_settled(const Experiment& experiment, PrometheusClient& prometheus, Clock& clock,
                                const std::atomic<bool>& interrupted, const SettleOptions& options) {
  SettleResult result;
  const SteadyTime start = clock.steady_now();
  const SteadyTime deadline = start + options.timeout;
  while (true) {
    if (interrupted.load()) {
      result.state = SettleResult::State::kInterrupted;
      break;
    }
    ++result.polls;
    result.last_failures = settle_failures(experiment, prometheus);
    if (result.last_failures.empty()) {
      result.state = SettleResult::State::kSettled;
      break;
    }
    const SteadyTime now = clock.steady_now();
    if (now >= deadline) {
      result.state = SettleResult::State::kTimedOut;
      break;
    }
    clock.sleep_until(std::min(now + options.interval, deadline));
  }
  result.waited = clock.steady_now() - start;
  return result;
}

}  // namespace chaos::orchestrator
