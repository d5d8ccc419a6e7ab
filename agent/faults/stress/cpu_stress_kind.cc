#include "agent/faults/stress/cpu_stress_kind.h"

#include <cmath>
#include <mutex>
#include <sstream>
#include <thread>

#include "agent/faults/stress/cpu_burner.h"

namespace chaos::agent::stress {

namespace {

// How long the live check waits for every worker thread to be running.
constexpr std::chrono::seconds kStartWait{1};

class LiveCpuStress final : public LiveFault {
 public:
  LiveCpuStress(CpuStressPlan plan, std::unique_ptr<CpuBurner> burner)
      : plan_(plan), burner_(std::move(burner)), started_(std::chrono::steady_clock::now()) {}

  std::string backend() const override { return "threads"; }

  // "2 workers at 80%, used 1.6 CPUs": the CPU the workers really got, which
  // is less than asked when the node's CPUs are already busy.
  std::string detail() const override {
    std::ostringstream out;
    out << plan_.workers << (plan_.workers == 1 ? " worker" : " workers") << " at " << plan_.load * 100 << "%";
    const std::chrono::duration<double> wall = std::chrono::steady_clock::now() - started_;
    if (wall.count() > 0.2) {
      const std::chrono::duration<double> cpu = burner_->cpu_time();
      out << ", used " << std::round(cpu.count() / wall.count() * 100) / 100 << " CPUs";
    }
    return out.str();
  }

  nlohmann::json undo_record() const override { return {{"workers", plan_.workers}}; }

  Status revert() override {
    burner_->stop();
    return {};
  }

  // The workers' own thread CPU clocks: armed while they run, verified once
  // the kernel has charged them CPU time.
  StatusOr<FaultEffect> verify_live() override {
    // A worker counts itself once its thread runs; right after apply the
    // kernel may not have scheduled every one yet.
    const auto deadline = std::chrono::steady_clock::now() + kStartWait;
    while (burner_->running() != plan_.workers && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    const unsigned running = burner_->running();
    if (running != plan_.workers) {
      return failed_precondition("stress.cpu: " + std::to_string(running) + " of " + std::to_string(plan_.workers) +
                                 " worker threads are running");
    }
    const auto cpu = std::chrono::duration_cast<std::chrono::microseconds>(burner_->cpu_time());
    FaultEffect effect;
    effect.impaired = cpu.count() > 0;
    effect.evidence = std::to_string(running) + " worker threads running, " + std::to_string(cpu.count() / 1000) +
                      " ms CPU used";
    effect.counters = {{"workers_running", running},
                       {"cpu_milliseconds", static_cast<std::uint64_t>(cpu.count() / 1000)}};
    return effect;
  }

  StatusOr<std::string> verify_gone() override {
    const unsigned running = burner_->running();
    if (running != 0) return failed_precondition("stress.cpu: " + std::to_string(running) + " worker threads still run");
    return std::string("every worker thread joined");
  }

 private:
  const CpuStressPlan plan_;
  const std::unique_ptr<CpuBurner> burner_;
  const std::chrono::steady_clock::time_point started_;
};

// Placed: worker processes in the target's cpu cgroup. The same report as
// the threads, from the workers' /proc/PID/stat CPU times.
class LivePlacedCpuStress final : public LiveFault {
 public:
  LivePlacedCpuStress(CpuStressPlan plan, std::unique_ptr<StressWorkers> workers)
      : plan_(plan), workers_(std::move(workers)), started_(std::chrono::steady_clock::now()) {}

  std::string backend() const override { return "processes"; }

  // "2 workers at 80%, used 1.6 CPUs, in v1 cpu,cpuacct /system.slice/nats.service"
  std::string detail() const override {
    std::lock_guard<std::mutex> lock(mutex_);
    std::ostringstream out;
    out << plan_.workers << (plan_.workers == 1 ? " worker" : " workers") << " at " << plan_.load * 100 << "%";
    const std::chrono::duration<double> wall = std::chrono::steady_clock::now() - started_;
    if (wall.count() > 0.2 && !workers_->stopped()) {
      out << ", used " << std::round(workers_->cpu_seconds() / wall.count() * 100) / 100 << " CPUs";
    }
    if (workers_->placement()) out << ", in " << workers_->placement()->cgroup.describe();
    return out.str();
  }

  nlohmann::json undo_record() const override {
    std::lock_guard<std::mutex> lock(mutex_);
    return workers_->undo_record();
  }

  Status revert() override {
    std::lock_guard<std::mutex> lock(mutex_);
    workers_->stop();
    return {};
  }

  Status on_tick(SteadyTime) override {
    std::lock_guard<std::mutex> lock(mutex_);
    if (auto death = workers_->first_death()) {
      return aborted("worker_died: stress.cpu worker " + std::to_string(death->pid) + " " + death->how);
    }
    return {};
  }

  // The workers' CPU times from /proc: armed while they run, verified once
  // the kernel has charged them CPU time.
  StatusOr<FaultEffect> verify_live() override {
    const auto deadline = std::chrono::steady_clock::now() + kStartWait;
    for (;;) {
      auto effect = observe();
      if (!effect.ok() || effect->impaired || std::chrono::steady_clock::now() >= deadline) return effect;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }

  StatusOr<FaultEffect> observe() override {
    std::lock_guard<std::mutex> lock(mutex_);
    if (auto death = workers_->first_death()) {
      return failed_precondition("stress.cpu worker " + std::to_string(death->pid) + " " + death->how);
    }
    const auto alive = workers_->alive();
    if (alive.size() != plan_.workers) {
      return failed_precondition("stress.cpu: " + std::to_string(alive.size()) + " of " +
                                 std::to_string(plan_.workers) + " worker processes run");
    }
    const auto cpu_ms = static_cast<std::uint64_t>(workers_->cpu_seconds() * 1000);
    FaultEffect effect;
    effect.impaired = cpu_ms > 0;
    effect.evidence = std::to_string(alive.size()) + " worker processes (pids " + workers_->pids() + ") running, " +
                      std::to_string(cpu_ms) + " ms CPU used";
    if (workers_->placement()) effect.evidence += ", in " + workers_->placement()->cgroup.describe();
    effect.counters = {{"workers_running", alive.size()}, {"cpu_milliseconds", cpu_ms}};
    return effect;
  }

  StatusOr<std::string> verify_gone() override {
    std::lock_guard<std::mutex> lock(mutex_);
    const auto alive = workers_->alive();
    if (!alive.empty()) {
      return failed_precondition("stress.cpu: " + std::to_string(alive.size()) + " worker processes still run");
    }
    return "worker processes " + workers_->pids() + " are gone";
  }

 private:
  const CpuStressPlan plan_;
  mutable std::mutex mutex_;  // on_tick, observe and revert come from different threads
  const std::unique_ptr<StressWorkers> workers_;
  const std::chrono::steady_clock::time_point started_;
};

}  // namespace

StatusOr<CpuStressPlan> cpu_stress_plan_from_spec(const v1::FaultSpec& spec) {
  if (!spec.has_stress_cpu()) return invalid_argument("stress_cpu: missing");
  const auto& proto = spec.stress_cpu();
  CpuStressPlan plan;
  if (proto.workers() > kMaxWorkers) {
    return invalid_argument("stress_cpu.workers: at most " + std::to_string(kMaxWorkers));
  }
  plan.workers = proto.workers() == 0 ? 1 : proto.workers();
  const double percent = proto.load_percent();
  if (!std::isfinite(percent) || percent < 0 || percent > 100) {
    return invalid_argument("stress_cpu.load_percent: must be in (0, 100]");
  }
  plan.load = percent == 0 ? 1.0 : percent / 100;
  if (proto.has_target()) {
    CHAOS_RETURN_IF_ERROR(validate_process_target(proto.target(), "stress_cpu.target"));
    plan.targeted = true;
  }
  return plan;
}

Status CpuStressKind::check_targets(const v1::FaultSpec& spec) {
  if (!spec.has_stress_cpu() || !spec.stress_cpu().has_target()) return {};
  return resolve_stress_placement(&spec.stress_cpu().target(), "stress_cpu.target", FaultContext{}, options_,
                                  StressResource::kCpu)
      .status();
}

StatusOr<std::unique_ptr<LiveFault>> CpuStressKind::apply(const v1::FaultSpec& spec, const FaultContext& context) {
  CHAOS_ASSIGN_OR_RETURN(const auto plan, cpu_stress_plan_from_spec(spec));
  CHAOS_ASSIGN_OR_RETURN(auto placement,
                         resolve_stress_placement(plan.targeted ? &spec.stress_cpu().target() : nullptr,
                                                  "stress_cpu.target", context, options_, StressResource::kCpu));
  if (placement) {
    const std::vector<WorkerJob> jobs(plan.workers, WorkerJob{WorkerJob::Work::kCpu, plan.load, 0});
    CHAOS_ASSIGN_OR_RETURN(auto workers, StressWorkers::start(name(), jobs, placement, options_));
    return std::unique_ptr<LiveFault>(std::make_unique<LivePlacedCpuStress>(plan, std::move(workers)));
  }
  CHAOS_ASSIGN_OR_RETURN(auto burner, CpuBurner::start(plan.workers, plan.load));
  return std::unique_ptr<LiveFault>(std::make_unique<LiveCpuStress>(plan, std::move(burner)));
}

ProcessTable& CpuStressKind::table() {
  if (options_.targeting && options_.targeting->table) return *options_.targeting->table;
  if (!own_table_) own_table_ = std::make_unique<ProcProcessTable>(options_.proc_root);
  return *own_table_;
}

Status CpuStressKind::recover(const v1::FaultSpec&, const FaultContext&, const nlohmann::json& undo_record) {
  return kill_recorded_workers(name(), undo_record, table());
}

StatusOr<std::string> CpuStressKind::verify_recovered(const FaultContext&, const nlohmann::json& undo_record) {
  return recorded_workers_gone(name(), undo_record, table());
}

}  // namespace chaos::agent::stress
