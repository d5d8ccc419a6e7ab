#include "orchestrator/run/experiment_run.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <ctime>

#include "common/duration.h"
#include "common/rfc3339.h"
#include "orchestrator/run/compare_check.h"
#include "orchestrator/run/compare_timing.h"
#include "orchestrator/run/preflight.h"

namespace chaos::orchestrator {

namespace {

// Slices bound every sleep so a Ctrl-C that lands between the flag check
// and the sleep is still noticed promptly.
constexpr std::chrono::milliseconds kMaxSleepSlice{250};

// How long the run waits, at most, for Prometheus to have scraped every
// target since the end of the run before reading the range data (about one
// scrape interval is needed; 15 s covers Prometheus's common settings).
constexpr std::chrono::seconds kRecoveryTimingIngestBound{15};

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

std::string title_slug(const std::string& title) {
  std::string slug;
  for (char c : title) {
    if (std::isalnum(static_cast<unsigned char>(c))) slug += static_cast<char>(std::tolower(c));
    else if (!slug.empty() && slug.back() != '-') slug += '-';
    if (slug.size() >= 40) break;
  }
  while (!slug.empty() && slug.back() == '-') slug.pop_back();
  return slug;
}

std::string make_experiment_id(const std::string& title, WallTime now, uint32_t random) {
  const std::string slug = title_slug(title);
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
  if (result == WatchResult::kInterrupted || outcome_.verdict == Verdict::kError) return;
  measure_recovery();
  if (context_.interrupted) return;  // measure_recovery noted it
  measure_range_timing(context_.clock.wall_now());
  // Ctrl-C while the range data was awaited or read: the figures are
  // incomplete, so the run is interrupted, not judged on them.
  if (context_.interrupted) return note_interrupt();
  judge_recovery();
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
    // A Ctrl-C during the previous group's last checks: no new faults.
    if (context_.interrupted) return WatchResult::kInterrupted;
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
    if (now >= end) return context_.interrupted ? WatchResult::kInterrupted : WatchResult::kCompleted;
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

// The recovery phase polls the after-checks until one poll sees all of them
// hold, or until `within` has passed since the last revert (a recovery later
// than that fails the run, so polling longer changes nothing). It does not
// wait for the range-data figure: that is read once the run is over, dates
// the recovery at the query step (which the poll cadence cannot), and
// decides whether the run recovered in time (judge_recovery).
void ExperimentRun::measure_recovery() {
  auto& clock = context_.clock;
  if (context_.experiment.recovery_within) {
    const auto within = *context_.experiment.recovery_within;
    context_.journal.event("phase", "recovery (within " + format_duration(within) + ")");
    outcome_.recovery_measured = true;
    const WallTime last_revert = last_revert_time();
    const auto left = std::max(std::chrono::nanoseconds(0), within - (clock.wall_now() - last_revert));
    const SteadyTime deadline = clock.steady_now() + left;
    while (!context_.interrupted) {
      if (steady_state_holds(Phase::kAfter, "recovery", false)) {
        first_recovery_check_at_ = clock.wall_now();
        context_.journal.event(
            "recovery", "first recovery check passed: every after-check held " +
                            recovery_seconds_text(std::max(std::chrono::nanoseconds(0), *first_recovery_check_at_ - last_revert)) +
                            " after the last revert (the time to recovery comes from Prometheus range data)");
        break;
      }
      if (clock.steady_now() >= deadline) break;
      context_.journal.progress("recovery", deadline - clock.steady_now());
      clock.sleep_until(std::min(deadline, clock.steady_now() + context_.experiment.settings.during_interval));
    }
  }
  if (context_.interrupted) return note_interrupt();
  context_.journal.event("phase", "steady state after");
  steady_state_holds(Phase::kAfter, "after", true);
}

// Time to detect and time to recovery from Prometheus range data, both at
// one step (RunOutcome::recovery_resolution). Without range data the time
// to recovery falls back to the first recovery check that passed, and no
// time to detect is given.
void ExperimentRun::measure_range_timing(WallTime run_end) {
  const auto faults = context_.journal.faults();
  const bool recovery = context_.experiment.recovery_within.has_value();
  if (faults.empty() && !recovery) return;
  const WallTime last_revert = last_revert_time();
  WallTime first_inject = last_revert;
  for (const auto& fault : faults) first_inject = std::min(first_inject, fault.applied_at);
  const WallTime end = recovery ? std::max(run_end, last_revert) : last_revert;
  const auto wanted = std::chrono::duration_cast<std::chrono::milliseconds>(context_.experiment.settings.recovery_step);
  const auto step = range_step_for(wanted, std::max(last_revert - first_inject, end - last_revert));
  if (step != wanted) {
    context_.journal.event("timing", "range data at a " + recovery_resolution_text(step) + " step instead of " +
                                         recovery_resolution_text(wanted) + ": Prometheus answers at most " +
                                         std::to_string(kRecoveryTimingMaxPoints) + " points per query here");
  }
  if (recovery) outcome_.last_revert_at = last_revert;
  // The recovery grid ends at its first instant at or after the end of the
  // run: the last recovery check (what ended the run) saw a sample that an
  // instant before the end would not, and would then be judged on an older
  // one. The wait below makes sure that instant's samples are in.
  const RangeGrid recovery_grid =
      make_range_grid(last_revert, end + step - std::chrono::milliseconds(1), step);
  wait_for_samples_up_to(recovery && recovery_grid.count > 0 ? recovery_grid.at(recovery_grid.count - 1) : end);
  const bool detected = !faults.empty() && !context_.interrupted &&
                        time_detection(make_range_grid(first_inject, last_revert, step));
  if (!recovery) {
    if (detected) outcome_.recovery_resolution = step;
    return;
  }
  if (!context_.interrupted && time_recovery(recovery_grid)) {
    outcome_.recovery_resolution = step;
    return;
  }
  // One resolution describes every figure shown: the polls' cadence.
  outcome_.time_to_detect.reset();
  outcome_.detected_at.reset();
  outcome_.detected_by.clear();
  outcome_.detected_by_kind.clear();
  outcome_.detection_from_range_data = false;
  outcome_.recovery_resolution = context_.experiment.settings.during_interval;
  if (!first_recovery_check_at_) return;
  outcome_.recovered_at = first_recovery_check_at_;
  outcome_.time_to_recovery = std::max(std::chrono::nanoseconds(0), *first_recovery_check_at_ - last_revert);
  context_.journal.event("recovery", "time to recovery " + recovery_seconds_text(*outcome_.time_to_recovery) +
                                         " from the first recovery check that passed (no range data)");
}

// A range's last instants are evaluated from what Prometheus has ingested:
// a scrape still in flight would judge them on older samples. So wait,
// bounded, until every target has been scraped since `end`.
void ExperimentRun::wait_for_samples_up_to(WallTime end) {
  auto& clock = context_.clock;
  const double wanted = std::chrono::duration<double>(end.time_since_epoch()).count();
  const SteadyTime deadline = clock.steady_now() + kRecoveryTimingIngestBound;
  while (!context_.interrupted) {
    const auto answer = context_.prometheus.instant_query(kRecoveryTimingIngestedQuery);
    if (!answer.ok()) return;  // the range queries name the problem
    if (answer->empty() || answer->series.front().points.empty()) {
      context_.journal.event("timing", std::string("no answer to ") + kRecoveryTimingIngestedQuery +
                                           ": cannot tell whether Prometheus has every sample up to the end "
                                           "of the run; reading the range data now");
      return;
    }
    const SamplePoint& latest = answer->series.front().points.back();
    if (latest.value >= wanted) return;
    const SteadyTime now = clock.steady_now();
    if (now >= deadline) {
      context_.journal.event("timing", "some target was not scraped within " +
                                           format_duration(kRecoveryTimingIngestBound) + " after the end of the run (" +
                                           kRecoveryTimingIngestedQuery + " = " + latest.text +
                                           "); the last instants may be judged on older samples");
      return;
    }
    context_.journal.progress("range data", deadline - now);
    clock.sleep_until(std::min(deadline, now + kMaxSleepSlice));
  }
}

namespace {

// Each applicable check's range answer over the grid; an error names the
// check and the query.
StatusOr<std::vector<CheckRange>> query_range_of_checks(const Experiment& experiment, Phase phase,
                                                         PrometheusClient& prometheus, const RangeGrid& grid) {
  std::vector<CheckRange> checks;
  if (grid.count == 0) return checks;
  for (const auto& check : experiment.steady_state) {
    if (!check.applies_to(phase)) continue;
    auto answer = prometheus.range_query(check.condition.query, grid.start, grid.at(grid.count - 1), grid.step);
    if (!answer.ok()) {
      return Status(answer.status().code(), "range query of '" + check.condition.name + "' failed: " +
                                                answer.status().message());
    }
    checks.push_back({check.condition, std::move(*answer)});
  }
  return checks;
}

}  // namespace

// The first instant from the first injection where a during-check or a
// during compare does not hold (the earlier of the two; the during-check at
// equal instants); false when the during-checks' range data could not be
// read. A compare whose range data cannot be read is named in the journal
// and left out; one that already failed the step before the first injection
// is journaled as violated before the fault and gives no time to detect.
bool ExperimentRun::time_detection(const RangeGrid& grid) {
  const std::string source = "Prometheus range data, " + recovery_resolution_text(grid.step) + " resolution";
  auto checks = query_range_of_checks(context_.experiment, Phase::kDuring, context_.prometheus, grid);
  if (!checks.ok()) {
    context_.journal.event("error", "time to detect: " + checks.status().message());
    return false;
  }
  const RangeGrid lead_grid = compare_grid_with_instant_before(grid);
  auto compares = query_compare_ranges(context_.experiment, Phase::kDuring, context_.prometheus, lead_grid);
  if (!compares.ok()) {
    context_.journal.event("error", "time to detect: " + compares.status().message() +
                                        "; the compares give no time to detect");
    compares = std::vector<CompareRange>{};
  }
  if (checks->empty() && compares->empty()) return true;
  outcome_.detection_from_range_data = true;
  GridFinding found = first_violated_instant(*checks, grid);
  std::string kind = "steady_state";
  CompareDetection by_compares = first_violated_compare_after_fault(*compares, lead_grid);
  for (const auto& name : by_compares.violated_before) {
    context_.journal.event("detect", "compare '" + name + "' violated before the fault (at " +
                                         format_rfc3339(lead_grid.start) +
                                         ", one step before the first injection): no time to detect from it (" +
                                         source + ")");
  }
  if (GridFinding& by_compare = by_compares.finding;
      by_compare.index && (!found.index || *by_compare.index < *found.index)) {
    found = std::move(by_compare);
    kind = "compare";
  }
  if (!found.index) {
    context_.journal.event("detect", "no during-check or compare sample was violated while the faults were live (" +
                                         source + ")");
    return true;
  }
  outcome_.detected_at = grid.at(*found.index);
  outcome_.time_to_detect = grid.offset(*found.index);
  outcome_.detected_by = found.check;
  outcome_.detected_by_kind = kind;
  context_.journal.event("detect", "detected " + recovery_seconds_text(*outcome_.time_to_detect) +
                                       " after the first injection: " + (kind == "compare" ? "compare '" : "'") +
                                       found.check + "' violated at " + format_rfc3339(*outcome_.detected_at) + " (" +
                                       source + ")");
  return true;
}

// The first instant from the last revert from which every after-check holds
// to the end of the run; false when the range data could not be read.
bool ExperimentRun::time_recovery(const RangeGrid& grid) {
  const std::string source = "Prometheus range data, " + recovery_resolution_text(grid.step) + " resolution";
  if (grid.count == 0) return false;
  auto checks = query_range_of_checks(context_.experiment, Phase::kAfter, context_.prometheus, grid);
  if (!checks.ok()) {
    context_.journal.event("error", "time to recovery: " + checks.status().message());
    return false;
  }
  outcome_.recovery_from_range_data = true;
  const GridFinding found = first_instant_holding_to_end(*checks, grid);
  const std::string last_failure =
      found.check_index ? "'" + found.check + "' failed at " + format_rfc3339(grid.at(*found.check_index)) : "";
  if (!found.index) {
    context_.journal.event("recovery", "not recovered: the after-checks never held from an instant after the last "
                                       "revert to the end of the run; " + last_failure + " (" + source + ")");
    return true;
  }
  outcome_.recovered_at = grid.at(*found.index);
  outcome_.time_to_recovery = grid.offset(*found.index);
  context_.journal.event("recovery", "recovered " + recovery_seconds_text(*outcome_.time_to_recovery) +
                                         " after the last revert: every after-check held from " +
                                         format_rfc3339(*outcome_.recovered_at) + " to the end of the run" +
                                         (last_failure.empty() ? "" : "; the last to fail: " + last_failure) +
                                         " (" + source + ")");
  return true;
}

// Recovered means: a time to recovery exists and is within [recovery] within.
void ExperimentRun::judge_recovery() {
  if (!context_.experiment.recovery_within) return;
  const auto within = *context_.experiment.recovery_within;
  const std::string source = outcome_.recovery_from_range_data
                                 ? "Prometheus range data, " + recovery_resolution_text(outcome_.recovery_resolution) +
                                       " resolution"
                                 : "recovery checks every " + format_duration(context_.experiment.settings.during_interval);
  if (!outcome_.time_to_recovery) {
    failures_.emplace("recovery", "steady state did not hold again within " + format_duration(within) + " (" +
                                      source + ")");
  } else if (*outcome_.time_to_recovery > within) {
    failures_.emplace("recovery", "steady state held again only " + recovery_seconds_text(*outcome_.time_to_recovery) +
                                      " after the last revert, later than " + format_duration(within) + " (" +
                                      source + ")");
  } else {
    outcome_.recovered = true;
  }
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
