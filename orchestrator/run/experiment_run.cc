#include "orchestrator/run/experiment_run.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <ctime>

#include "common/duration.h"
#include "orchestrator/run/compare_check.h"
#include "orchestrator/run/preflight.h"

namespace chaos::orchestrator {

namespace {

// Slices bound every sleep so a Ctrl-C that lands between the flag check
// and the sleep is still noticed promptly.
constexpr std::chrono::milliseconds kMaxSleepSlice{250};

int severity(Verdict verdict) {
  switch (verdict) {
    case Verdict::kHeld: return 0;
    case Verdict::kViolated: return 1;
    case Verdict::kAborted: return 2;
    case Verdict::kError: return 3;
  }
  return 3;
}

}  // namespace

std::string make_experiment_id(const std::string& title, WallTime now, uint32_t random) {
  std::string slug;
  for (char c : title) {
    if (std::isalnum(static_cast<unsigned char>(c))) slug += static_cast<char>(std::tolower(c));
    else if (!slug.empty() && slug.back() != '-') slug += '-';
    if (slug.size() >= 40) break;
  }
  while (!slug.empty() && slug.back() == '-') slug.pop_back();
  const std::time_t seconds = std::chrono::system_clock::to_time_t(now);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char stamp[40];
  std::strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &utc);
  char suffix[16];
  std::snprintf(suffix, sizeof suffix, "%04x", random & 0xffffu);
  return (slug.empty() ? "experiment" : slug) + "-" + stamp + "-" + suffix;
}

ExperimentRun::ExperimentRun(RunContext context)
    : context_(std::move(context)),
      pool_(context_.agents),
      ledger_(pool_, context_.journal, context_.clock, context_.identity) {}

void ExperimentRun::fail(Verdict verdict, const std::string& reason) {
  if (severity(verdict) > severity(outcome_.verdict)) {
    outcome_.verdict = verdict;
    outcome_.reason = reason;
  }
}

void ExperimentRun::note_interrupt() {
  context_.journal.event("interrupt", "interrupted: reverting every fault");
  outcome_.aborted_by = outcome_.aborted_by.empty() ? "interrupted" : outcome_.aborted_by;
  fail(Verdict::kAborted, "interrupted before the run ended");
}

// A destructor must not throw: a teardown that throws is recorded as an
// error; the agents' leases, no longer renewed, then end the faults.
class ExperimentRun::TeardownOnExit {
 public:
  explicit TeardownOnExit(ExperimentRun& run) : run_(run) {}
  TeardownOnExit(const TeardownOnExit&) = delete;
  TeardownOnExit& operator=(const TeardownOnExit&) = delete;
  ~TeardownOnExit() {
    try {
      run_.teardown();
    } catch (const std::exception& error) {
      record(std::string("revert failed: ") + error.what());
    } catch (...) {
      record("revert failed: unknown exception");
    }
  }

 private:
  void record(const std::string& what) noexcept {
    try {
      run_.internal_failure(what + "; the agents' leases expire on their own");
    } catch (...) {
    }
  }
  ExperimentRun& run_;
};

RunOutcome ExperimentRun::run() {
  context_.journal.event("phase", "run " + context_.identity.experiment_id + " of '" +
                                      context_.experiment.title + "' started");
  {
    TeardownOnExit teardown_on_exit(*this);
    try {
      run_steps();
    } catch (const std::exception& error) {
      internal_failure(error.what());
    } catch (...) {
      internal_failure("unknown exception");
    }
  }
  return finish();
}

void ExperimentRun::run_steps() {
  if (!steps_before_method()) return;
  const WatchResult result = execute_method();
  if (result == WatchResult::kInterrupted) note_interrupt();
  teardown();
  if (result != WatchResult::kInterrupted && outcome_.verdict != Verdict::kError) measure_recovery();
}

void ExperimentRun::internal_failure(const std::string& what) {
  context_.journal.event("error", "internal error: " + what);
  fail(Verdict::kError, "internal error: " + what);
}

// Preflight and the steady state before; false means: do not inject.
bool ExperimentRun::steps_before_method() {
  context_.journal.event("phase", "preflight");
  const Status preflight =
      run_preflight(context_.experiment, context_.prometheus, pool_, context_.journal, context_.identity.experiment_id);
  if (!preflight.ok()) {
    context_.journal.event("error", preflight.message());
    fail(Verdict::kError, preflight.message());
    return false;
  }
  if (context_.interrupted) {
    note_interrupt();
    return false;
  }
  context_.journal.event("phase", "steady state before");
  if (!steady_state_holds(Phase::kBefore, "before", true)) {
    fail(Verdict::kViolated, "the steady state did not hold before the method; nothing was injected");
    return false;
  }
  if (context_.interrupted) {
    note_interrupt();
    return false;
  }
  return true;
}

ExperimentRun::WatchResult ExperimentRun::execute_method() {
  context_.journal.event("phase", "method");
  next_check_ = context_.clock.steady_now() + context_.experiment.settings.during_interval;
  const auto groups = context_.experiment.schedule();
  for (size_t i = 0; i < groups.size(); ++i) {
    const SteadyTime group_end = context_.clock.steady_now() + groups[i].duration();
    const Status injected = ledger_.inject_group(groups[i], i);
    if (!injected.ok()) {
      fail(Verdict::kError, "inject failed: " + injected.message());
      return WatchResult::kCompleted;
    }
    const WatchResult result = watch_until(group_end, "during");
    if (result != WatchResult::kCompleted) return result;
  }
  return WatchResult::kCompleted;
}

ExperimentRun::WatchResult ExperimentRun::watch_until(SteadyTime end, const std::string& phase) {
  const auto interval = context_.experiment.settings.during_interval;
  while (true) {
    if (context_.interrupted) return WatchResult::kInterrupted;
    ledger_.revert_expired();
    ledger_.renew_lease_if_due();
    SteadyTime now = context_.clock.steady_now();
    if (now >= next_check_) {
      next_check_ = now + interval;
      if (abort_condition_fired()) return WatchResult::kAborted;
      steady_state_holds(Phase::kDuring, "during", true);
      now = context_.clock.steady_now();
    }
    if (now >= end) return WatchResult::kCompleted;
    context_.journal.progress(phase, end - now);
    const SteadyTime wake = std::min({end, next_check_, ledger_.next_due(), now + kMaxSleepSlice});
    context_.clock.sleep_until(wake);
  }
}

bool ExperimentRun::steady_state_holds(Phase phase, const std::string& label, bool count_failures) {
  bool all_hold = true;
  for (const auto& check : context_.experiment.steady_state) {
    if (!check.applies_to(phase)) continue;
    const Evaluation evaluation =
        evaluate(check.condition, context_.prometheus.instant_query(check.condition.query));
    context_.journal.evaluation(label, "steady_state", evaluation);
    if (evaluation.holds) continue;
    all_hold = false;
    if (count_failures) failures_.emplace(check.condition.name + " [" + label + "]", describe(evaluation));
  }
  // [[compare]] checks count in the during and after checks, not in the
  // recovery polling (count_failures false): recovery asks whether the SLOs
  // are back, and a control set's weather must not delay that answer.
  if (count_failures && !compare_checks_hold(context_.experiment, phase, label, context_.prometheus,
                                             context_.journal, failures_)) {
    all_hold = false;
  }
  return all_hold;
}

bool ExperimentRun::abort_condition_fired() {
  for (const auto& abort : context_.experiment.aborts) {
    const Evaluation evaluation = evaluate(
        abort.condition, context_.prometheus.instant_query(abort.condition.query), Quantifier::kAnySeries);
    context_.journal.evaluation("during", "abort", evaluation);
    if (!evaluation.holds) continue;
    outcome_.aborted_by = abort.condition.name;
    const std::string reason = "abort condition '" + abort.condition.name + "' is true (" +
                               describe(evaluation) + ")";
    context_.journal.event("abort", reason + ": reverting every fault now");
    fail(Verdict::kAborted, reason);
    return true;
  }
  return false;
}

// Marked done only once revert_everything() returned, so a teardown cut
// short by an exception is tried again on the way out.
void ExperimentRun::teardown() {
  if (torn_down_) return;
  context_.journal.event("phase", "revert");
  outcome_.unreverted = ledger_.revert_everything(context_.revert_give_up_after, context_.revert_retry_pause);
  torn_down_ = true;
  for (const auto& problem : outcome_.unreverted) {
    context_.journal.event("error", "revert never confirmed by " + problem);
  }
  if (!outcome_.unreverted.empty()) {
    fail(Verdict::kError, std::to_string(outcome_.unreverted.size()) +
                              " revert(s) never confirmed (agents unreachable or faults not reverted): " +
                              outcome_.unreverted.front());
  }
  note_leftovers();
}

void ExperimentRun::note_leftovers() {
  for (const auto& node : context_.journal.leftovers()) {
    const std::string where = node.node.empty() ? node.agent : node.node;
    for (const auto& change : node.leftovers) outcome_.leftovers.push_back(describe(change, where));
    for (const auto& change : node.foreign) outcome_.foreign_changes.push_back(describe(change, where));
    for (const auto& error : node.errors) {
      context_.journal.event("leftovers", "leftover check on " + where + " could not read " + error);
    }
  }
  for (const auto& leftover : outcome_.leftovers) context_.journal.event("leftover", leftover);
  for (const auto& change : outcome_.foreign_changes) {
    context_.journal.event("foreign_change", change + " (not made by this run)");
  }
  if (!outcome_.leftovers.empty()) {
    fail(Verdict::kError, std::to_string(outcome_.leftovers.size()) +
                              " object(s) of this run's faults are still on the system after every revert: " +
                              outcome_.leftovers.front());
  }
}

// The latest confirmed revert of any fault; a run without reverted faults
// counts from now (the end of teardown).
WallTime ExperimentRun::last_revert_time() const {
  WallTime latest = context_.clock.wall_now();
  bool any = false;
  for (const auto& fault : context_.journal.faults()) {
    if (!fault.reverted_at) continue;
    latest = any ? std::max(latest, *fault.reverted_at) : *fault.reverted_at;
    any = true;
  }
  return latest;
}

void ExperimentRun::measure_recovery() {
  auto& clock = context_.clock;
  if (context_.experiment.recovery_within) {
    context_.journal.event("phase", "recovery (within " + format_duration(*context_.experiment.recovery_within) + ")");
    outcome_.recovery_measured = true;
    const WallTime last_revert = last_revert_time();
    const SteadyTime deadline = clock.steady_now() + *context_.experiment.recovery_within;
    while (!context_.interrupted) {
      if (steady_state_holds(Phase::kAfter, "recovery", false)) {
        outcome_.recovered = true;
        outcome_.last_revert_at = last_revert;
        outcome_.recovered_at = clock.wall_now();
        outcome_.time_to_recovery = std::max(std::chrono::nanoseconds(0), *outcome_.recovered_at - last_revert);
        context_.journal.event("recovery", "recovered after " + format_duration(*outcome_.time_to_recovery));
        break;
      }
      if (clock.steady_now() >= deadline) break;
      context_.journal.progress("recovery", deadline - clock.steady_now());
      clock.sleep_until(std::min(deadline, clock.steady_now() + context_.experiment.settings.during_interval));
    }
    if (!outcome_.recovered) {
      failures_.emplace("recovery", "steady state did not hold again within " +
                                        format_duration(*context_.experiment.recovery_within));
    }
  }
  if (context_.interrupted) return note_interrupt();
  context_.journal.event("phase", "steady state after");
  steady_state_holds(Phase::kAfter, "after", true);
}

RunOutcome ExperimentRun::finish() {
  for (const auto& [check, detail] : failures_) outcome_.failed_checks.push_back(check + ": " + detail);
  if (!failures_.empty()) fail(Verdict::kViolated, "the hypothesis did not hold");
  outcome_.ended_early = ledger_.early_ends();
  // Only "held" becomes an error: a violation or an abort observed while the
  // faults were live stays what it was.
  if (!outcome_.ended_early.empty() && outcome_.verdict == Verdict::kHeld) {
    outcome_.verdict = Verdict::kError;
    outcome_.reason = std::to_string(outcome_.ended_early.size()) +
                      " fault(s) ended before their time, so the experiment did not run as designed; first: " +
                      describe(outcome_.ended_early.front());
  }
  if (outcome_.reason.empty()) outcome_.reason = "the hypothesis held";
  context_.journal.event("verdict", std::string(verdict_name(outcome_.verdict)) + ": " + outcome_.reason);
  return outcome_;
}

}  // namespace chaos::orchestrator
