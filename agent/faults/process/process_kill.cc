#include "agent/faults/process/process_kill.h"

#include <algorithm>
#include <atomic>
#include <csignal>

#include "agent/faults/process/process_fate.h"
#include "agent/faults/process/process_signalling.h"
#include "agent/faults/process/signal_names.h"
#include "agent/policy.h"
#include "agent/proto_convert.h"
#include "common/duration.h"

namespace chaos::agent {

namespace {

// How long the live check waits for targets of a catchable signal to exit
// before it reports the fault armed rather than verified.
constexpr Duration kCatchableWait = std::chrono::seconds(1);

// The registry ticks every ~100 ms; a shorter interval could not be kept.
constexpr Duration kMinInterval = std::chrono::milliseconds(100);

class LiveProcessKill final : public LiveFault {
 public:
  LiveProcessKill(std::shared_ptr<const ProcessTargeting> targeting, ProcessSelector selector, int signal,
                  Duration interval, std::string fault_id, std::vector<ProcessInfo> killed, ProcessArea area)
      : targeting_(std::move(targeting)),
        selector_(std::move(selector)),
        area_(std::move(area)),
        signal_(signal),
        interval_(interval),
        fault_id_(std::move(fault_id)),
        killed_(std::move(killed)),
        next_kill_(targeting_->clock->steady_now() + interval) {}

  std::string backend() const override { return "signal"; }

  std::string detail() const override {
    std::string text = signal_display_name(signal_) + " pids " + join_pids(killed_);
    if (interval_.count() > 0) text += ", then every " + format_duration(interval_);
    return text;
  }

  nlohmann::json undo_record() const override {
    // Nothing to undo: a delivered signal cannot be taken back.
    nlohmann::json pids = nlohmann::json::array();
    for (const auto& process : killed_) pids.push_back(process.pid);
    return {{"signal", signal_display_name(signal_)}, {"pids", pids}};
  }

  Status revert() override {
    stopped_ = true;
    return {};
  }

  // Every target is gone (or its pid names a younger process: restarted)
  // once the signal has acted. SIGKILL cannot be caught: a target still
  // there after the wait means the kill did not take effect. Any other
  // signal may start a shutdown that takes a while (a JVM or Erlang broker
  // on SIGTERM): after a short wait a target still running leaves the fault
  // armed, and observe() turns it verified once every target is gone.
  StatusOr<FaultEffect> verify_live() override {
    const bool uncatchable = signal_ == SIGKILL;
    const Duration wait = uncatchable ? targeting_->effect_timeout
                                      : std::min<Duration>(targeting_->effect_timeout, kCatchableWait);
    const auto stragglers = wait_for_fates(*targeting_->table, killed_, gone, wait);
    if (!stragglers.empty() && uncatchable) {
      return failed_precondition("process.kill: " + describe_stragglers(stragglers) + " " + format_duration(wait) +
                                 " after SIGKILL");
    }
    return effect_now(stragglers);
  }

  // One /proc read per target: cheap enough every second.
  StatusOr<FaultEffect> observe() override {
    return effect_now(wait_for_fates(*targeting_->table, killed_, gone, Duration{0}));
  }

  StatusOr<std::string> verify_gone() override {
    return std::string("nothing to undo: a delivered signal is not taken back");
  }

  Status on_tick(SteadyTime now) override {
    if (stopped_ || interval_.count() == 0 || now < next_kill_) return {};
    next_kill_ = now + interval_;
    ++round_;
    auto targets = resolve_process_target(selector_, *targeting_, target_seed(fault_id_, round_), area_);
    if (!targets.ok()) {
      // Nothing to kill this round (e.g. not restarted yet) is expected.
      return targets.status().code() == StatusCode::kNotFound ? Status{} : targets.status();
    }
    const auto report = signal_processes(*targeting_->table, *targets, signal_);
    signals_sent_ += report.signalled.size();
    return report.first_error;
  }

 private:
  static bool gone(ProcessFate fate) { return fate == ProcessFate::kGone || fate == ProcessFate::kRecycled; }

  FaultEffect effect_now(const std::vector<Straggler>& stragglers) const {
    FaultEffect effect;
    effect.impaired = stragglers.empty();
    effect.evidence = signal_display_name(signal_) + ": " +
                      (stragglers.empty() ? "pids " + join_pids(killed_) + " gone from /proc"
                                          : "delivered; " + describe_stragglers(stragglers) +
                                                " (shutting down, or it catches the signal)");
    effect.counters = {{"signals_sent", signals_sent_.load()}};
    return effect;
  }

  std::shared_ptr<const ProcessTargeting> targeting_;
  ProcessSelector selector_;  // compiled once in apply()
  const ProcessArea area_;    // the host, or the container resolved at apply
  int signal_;
  Duration interval_;
  std::string fault_id_;
  std::vector<ProcessInfo> killed_;
  SteadyTime next_kill_;
  std::uint64_t round_ = 0;
  bool stopped_ = false;
  std::atomic<std::uint64_t> signals_sent_{killed_.size()};
};

}  // namespace

ProcessKillKind::ProcessKillKind(std::shared_ptr<const ProcessTargeting> targeting)
    : targeting_(std::move(targeting)) {}

Status ProcessKillKind::validate(const v1::FaultSpec& spec) const {
  if (spec.kind_case() != v1::FaultSpec::kProcessKill) return invalid_argument("spec: not a process_kill spec");
  const auto& kill = spec.process_kill();
  if (!kill.has_target()) return invalid_argument("process_kill.target: required");
  CHAOS_RETURN_IF_ERROR(validate_process_target(kill.target(), "process_kill.target"));
  CHAOS_RETURN_IF_ERROR(parse_kill_signal(kill.signal(), "process_kill.signal").status());
  CHAOS_ASSIGN_OR_RETURN(const Duration interval, from_proto_duration(kill.interval(), "process_kill.interval"));
  if (interval.count() < 0) return invalid_argument("process_kill.interval: must not be negative");
  if (interval.count() > 0 && interval < kMinInterval) {
    return invalid_argument("process_kill.interval: must be at least " + format_duration(kMinInterval));
  }
  // now + interval must not overflow: a wrapped deadline is always due, and
  // "once in 292 years" would kill every tick.
  if (interval > kDurationCeiling) {
    return invalid_argument("process_kill.interval: must be at most " + format_duration(kDurationCeiling));
  }
  return {};
}

StatusOr<std::unique_ptr<LiveFault>> ProcessKillKind::apply(const v1::FaultSpec& spec, const FaultContext& context) {
  CHAOS_RETURN_IF_ERROR(validate(spec));
  const auto& kill = spec.process_kill();
  CHAOS_ASSIGN_OR_RETURN(const int signal, parse_kill_signal(kill.signal(), "process_kill.signal"));
  CHAOS_ASSIGN_OR_RETURN(const Duration interval, from_proto_duration(kill.interval(), "process_kill.interval"));
  CHAOS_ASSIGN_OR_RETURN(ProcessSelector selector, ProcessSelector::compile(kill.target(), "process_kill.target"));
  CHAOS_ASSIGN_OR_RETURN(ProcessArea area, process_area_of(context, *targeting_->table));
  CHAOS_ASSIGN_OR_RETURN(auto targets,
                         resolve_process_target(selector, *targeting_, target_seed(context.fault_id, 0), area));
  SignalReport report = signal_processes(*targeting_->table, targets, signal);
  if (report.signalled.empty()) {
    if (!report.first_error.ok()) return report.first_error.with_context("process_kill");
    return not_found("process_kill.target: every match of " + describe_process_target(kill.target()) +
                     " exited before the signal");
  }
  // Signals already delivered cannot be taken back, so a partial success is
  // a success; the pids that were hit are in the detail.
  return std::unique_ptr<LiveFault>(std::make_unique<LiveProcessKill>(
      targeting_, std::move(selector), signal, interval, context.fault_id, std::move(report.signalled),
      std::move(area)));
}

Status ProcessKillKind::recover(const v1::FaultSpec&, const FaultContext&, const nlohmann::json&) {
  return {};  // a kill leaves nothing to undo
}

}  // namespace chaos::agent
