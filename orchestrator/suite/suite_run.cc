#include "orchestrator/suite/suite_run.h"

#include <cstdio>

#include "common/duration.h"
#include "orchestrator/report/html_text.h"
#include "orchestrator/run/experiment_run.h"
#include "orchestrator/suite/settle_gate.h"

namespace chaos::orchestrator {

namespace {

// "46.9 s", as the reports say it.
std::string suite_seconds_text(std::chrono::nanoseconds duration) {
  return report::format_seconds(std::chrono::duration<double>(duration).count());
}

Verdict suite_worse(Verdict a, Verdict b) { return exit_code(a) >= exit_code(b) ? a : b; }

std::string suite_upper(std::string text) {
  for (auto& c : text) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return text;
}

}  // namespace

std::optional<Verdict> SuiteRunResult::verdict() const {
  switch (state) {
    case SuiteRunState::kRan: return record->outcome.verdict;
    case SuiteRunState::kNotSettled: return Verdict::kError;
    case SuiteRunState::kNotRun: return std::nullopt;
  }
  return std::nullopt;
}

std::string suite_run_dir(size_t index, const std::string& title) {
  char number[24];
  std::snprintf(number, sizeof number, "%02zu", index + 1);
  const std::string slug = title_slug(title);
  return std::string(number) + "-" + (slug.empty() ? "experiment" : slug);
}

bool SuiteRun::settle(const SuiteItem& item, SuiteRunResult& result) {
  auto prometheus = context_.prometheus(item.experiment);
  if (!prometheus.ok()) {
    result.state = SuiteRunState::kNotSettled;
    result.reason = "settle gate: " + prometheus.status().message();
    return false;
  }
  context_.out << "settling: waiting up to " << format_duration(item.settle_timeout)
               << " for the steady state of '" << item.experiment.title << "'\n";
  const SettleResult settled = wait_until_settled(item.experiment, **prometheus, context_.clock,
                                                  context_.interrupted, {item.settle_timeout, settle_interval_});
  result.settle_waited = settled.waited;
  switch (settled.state) {
    case SettleResult::State::kSettled:
      context_.out << "settled after " << suite_seconds_text(settled.waited) << "\n";
      return true;
    case SettleResult::State::kInterrupted:
      result.state = SuiteRunState::kNotRun;
      result.reason = "interrupted";
      return false;
    case SettleResult::State::kTimedOut:
      result.state = SuiteRunState::kNotSettled;
      result.reason = "the steady state did not hold within " + format_duration(item.settle_timeout) +
                      " before the run (" + settled.last_failures + "); not run";
      context_.out << "not settled: " << result.reason << "\n";
      return false;
  }
  return false;
}

SuiteOutcome SuiteRun::run(const std::vector<SuiteItem>& items) {
  SuiteOutcome outcome;
  outcome.title = title_;
  outcome.started = context_.clock.wall_now();
  std::string stop_reason;
  for (size_t i = 0; i < items.size(); ++i) {
    const SuiteItem& item = items[i];
    SuiteRunResult result;
    result.title = item.experiment.title;
    result.run_dir = suite_run_dir(i, item.experiment.title);
    if (context_.interrupted.load() && stop_reason.empty()) stop_reason = "interrupted";
    if (!stop_reason.empty()) {
      result.reason = stop_reason;
      outcome.runs.push_back(std::move(result));
      continue;
    }
    context_.out << "\nexperiment " << i + 1 << "/" << items.size() << ": " << item.experiment.title << "\n";
    if (i == 0 || settle(item, result)) {
      const std::string dir = context_.report_dir.empty() ? "" : context_.report_dir + "/" + result.run_dir;
      result.record = context_.runner.run(item.experiment, dir);
      result.state = SuiteRunState::kRan;
    }
    if (result.state == SuiteRunState::kNotRun) stop_reason = result.reason;  // interrupted while settling
    if (context_.interrupted.load()) stop_reason = "interrupted";
    if (auto verdict = result.verdict()) {
      outcome.worst = suite_worse(outcome.worst, *verdict);
      if (fail_fast_ && *verdict != Verdict::kHeld && stop_reason.empty()) {
        stop_reason = "--fail-fast: experiment " + std::to_string(i + 1) + " did not hold";
      }
    }
    outcome.runs.push_back(std::move(result));
  }
  outcome.interrupted = context_.interrupted.load();
  if (outcome.interrupted) outcome.worst = suite_worse(outcome.worst, Verdict::kAborted);
  outcome.finished = context_.clock.wall_now();
  return outcome;
}

void print_suite_summary(std::ostream& out, const SuiteOutcome& outcome) {
  out << "\nsuite: " << outcome.title << ": " << suite_upper(verdict_name(outcome.worst)) << " (exit "
      << exit_code(outcome.worst) << ")" << (outcome.interrupted ? ", interrupted" : "") << "\n";
  for (size_t i = 0; i < outcome.runs.size(); ++i) {
    const SuiteRunResult& run = outcome.runs[i];
    out << "  " << i + 1 << "/" << outcome.runs.size() << " ";
    if (run.state == SuiteRunState::kRan) {
      const RunRecord& record = *run.record;
      out << verdict_name(record.outcome.verdict) << ": " << run.title << " ("
          << suite_seconds_text(record.times.finished - record.times.started);
      if (record.outcome.time_to_recovery) {
        out << ", time to recovery " << suite_seconds_text(*record.outcome.time_to_recovery);
      }
      out << ")";
      if (!record.report_dir.empty()) out << " " << record.report_dir;
    } else if (run.state == SuiteRunState::kNotSettled) {
      out << "error: " << run.title << ": " << run.reason;
    } else {
      out << "not run: " << run.title << " (" << run.reason << ")";
    }
    out << "\n";
  }
}

}  // namespace chaos::orchestrator
