// The gate between two experiments of a suite: the next experiment starts
// only once its own steady state (its before-checks) holds again, so its
// verdict is its own and not the aftermath of the one before. Polled every
// interval until a bounded timeout; Ctrl-C ends the wait at once.
#pragma once

#include <atomic>
#include <chrono>
#include <string>

#include "common/clock.h"
#include "orchestrator/clients/prometheus_client.h"
#include "orchestrator/experiment/experiment.h"

namespace chaos::orchestrator {

struct SettleOptions {
  std::chrono::nanoseconds timeout{0};
  std::chrono::nanoseconds interval{0};
};

struct SettleResult {
  enum class State { kSettled, kTimedOut, kInterrupted };
  State state = State::kSettled;
  std::chrono::nanoseconds waited{0};
  int polls = 0;
  // Timed out: the checks that failed on the last poll, as describe() says.
  std::string last_failures;
};

SettleResult wait_until_settled(const Experiment& experiment, PrometheusClient& prometheus, Clock& clock,
                                const std::atomic<bool>& interrupted, const SettleOptions& options);

}  // namespace chaos::orchestrator
