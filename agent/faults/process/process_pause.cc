#include "agent/faults/process/process_pause.h"

#include <csignal>

#include "agent/faults/process/process_fate.h"
#include "agent/faults/process/process_signalling.h"
#include "agent/rollback_stack.h"
#include "common/duration.h"

namespace chaos::agent {

namespace {

// SIGCONT to each process; a process that is gone counts as resumed.
Status resume_all(ProcessTable& table, const std::vector<ProcessInfo>& processes) {
  const SignalReport report = signal_processes(table, processes, SIGCONT);
  if (report.first_error.ok()) return {};
  std::string text;
  for (const auto& failure : report.failures) text += (text.empty() ? "" : "; ") + failure;
  return Status(report.first_error.code(), "SIGCONT failed: " + text);
}

class LiveProcessPause final : public LiveFault {
 public:
  LiveProcessPause(ProcessTable& table, Duration effect_timeout, std::vector<ProcessInfo> paused)
      : table_(table), effect_timeout_(effect_timeout), paused_(std::move(paused)) {}

  std::string backend() const override { return "signal"; }
  std::string detail() const override { return "SIGSTOP pids " + join_pids(paused_); }

  nlohmann::json undo_record() const override {
    nlohmann::json pids = nlohmann::json::array();
    for (const auto& process : paused_) {
      pids.push_back({{"pid", process.pid}, {"start_time", process.start_time}, {"comm", process.comm}});
    }
    return {{"pids", pids}};
  }

  Status revert() override { return resume_all(table_, paused_); }

  // Every target in state T. One that exited is not paused: the fault is
  // not in effect for it.
  StatusOr<FaultEffect> verify_live() override {
    const auto stragglers =
        wait_for_fates(table_, paused_, [](ProcessFate fate) { return fate == ProcessFate::kStopped; }, effect_timeout_);
    if (!stragglers.empty()) {
      return failed_precondition("process.pause: " + describe_stragglers(stragglers) + ", not stopped, " +
                                 format_duration(effect_timeout_) + " after SIGSTOP");
    }
    FaultEffect effect;
    effect.impaired = true;
    effect.evidence = "pids " + join_pids(paused_) + " in state T";
    effect.counters = {{"processes_stopped", paused_.size()}};
    return effect;
  }

  // Cheap enough to read every second: one /proc/PID/stat per target.
  StatusOr<FaultEffect> observe() override {
    std::uint64_t stopped = 0;
    for (const auto& process : paused_) stopped += fate_of(table_, process) == ProcessFate::kStopped ? 1 : 0;
    FaultEffect effect;
    effect.impaired = true;
    effect.counters = {{"processes_stopped", stopped}};
    return effect;
  }

  // Every target runs again (or has exited meanwhile: nothing of ours holds it).
  StatusOr<std::string> verify_gone() override {
    const auto stragglers =
        wait_for_fates(table_, paused_, [](ProcessFate fate) { return fate != ProcessFate::kStopped; }, effect_timeout_);
    if (!stragglers.empty()) {
      return failed_precondition("process.pause: " + describe_stragglers(stragglers) + " " +
                                 format_duration(effect_timeout_) + " after SIGCONT");
    }
    return "pids " + join_pids(paused_) + " no longer in state T";
  }

 private:
  ProcessTable& table_;
  const Duration effect_timeout_;
  std::vector<ProcessInfo> paused_;
};

StatusOr<std::vector<ProcessInfo>> processes_from_undo(const nlohmann::json& undo) {
  std::vector<ProcessInfo> processes;
  try {
    for (const auto& item : undo.at("pids")) {
      ProcessInfo process;
      process.pid = item.at("pid").get<int>();
      process.start_time = item.at("start_time").get<std::uint64_t>();
      process.comm = item.value("comm", "");
      processes.push_back(process);
    }
  } catch (const nlohmann::json::exception& error) {
    return invalid_argument(std::string("process.pause undo record: ") + error.what());
  }
  return processes;
}

}  // namespace

ProcessPauseKind::ProcessPauseKind(std::shared_ptr<const ProcessTargeting> targeting)
    : targeting_(std::move(targeting)) {}

Status ProcessPauseKind::validate(const v1::FaultSpec& spec) const {
  if (spec.kind_case() != v1::FaultSpec::kProcessPause) return invalid_argument("spec: not a process_pause spec");
  if (!spec.process_pause().has_target()) return invalid_argument("process_pause.target: required");
  return validate_process_target(spec.process_pause().target(), "process_pause.target");
}

StatusOr<std::unique_ptr<LiveFault>> ProcessPauseKind::apply(const v1::FaultSpec& spec, const FaultContext& context) {
  CHAOS_RETURN_IF_ERROR(validate(spec));
  const auto& target = spec.process_pause().target();
  CHAOS_ASSIGN_OR_RETURN(const ProcessArea area, process_area_of(context, *targeting_->table));
  CHAOS_ASSIGN_OR_RETURN(auto targets, resolve_process_target(target, "process_pause.target", *targeting_,
                                                              target_seed(context.fault_id, 0), area));
  ProcessTable& table = *targeting_->table;
  SignalReport report = signal_processes(table, targets, SIGSTOP);
  // All or nothing: a failed apply resumes what was already stopped.
  RollbackStack undo(context.failed_rollback);
  undo.push("SIGSTOP", [&table, signalled = report.signalled] { return resume_all(table, signalled); });
  if (!report.first_error.ok()) return report.first_error.with_context("process_pause");
  if (report.signalled.empty()) {
    return not_found("process_pause.target: every match of " + describe_process_target(target) +
                     " exited before it could be paused");
  }
  undo.release();  // the LiveProcessPause resumes them on revert
  return std::unique_ptr<LiveFault>(std::make_unique<LiveProcessPause>(table, targeting_->effect_timeout, std::move(report.signalled)));
}

Status ProcessPauseKind::recover(const v1::FaultSpec& spec, const FaultContext& context, const nlohmann::json& undo) {
  ProcessTable& table = *targeting_->table;
  if (!undo.is_null()) {
    CHAOS_ASSIGN_OR_RETURN(auto paused, processes_from_undo(undo));
    return resume_all(table, paused);
  }
  // Crashed between SIGSTOP and journaling the pids: resume every stopped
  // match. Resuming a process someone else stopped is the lesser harm. A
  // container whose init is gone took its processes with it.
  auto area = process_area_of(context, table);
  if (!area.ok()) return area.status().code() == StatusCode::kNotFound ? Status{} : area.status();
  std::vector<ProcessInfo> stopped;
  for (const auto& process : match_process_target(spec.process_pause().target(), *targeting_, *area)) {
    if (process.state == 'T' && process.pid != 1 && process.pid != table.self_pid()) stopped.push_back(process);
  }
  return resume_all(table, stopped);
}

}  // namespace chaos::agent
