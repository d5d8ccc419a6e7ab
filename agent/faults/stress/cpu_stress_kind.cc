#include "agent/faults/stress/cpu_stress_kind.h"

#include <cmath>
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
  return plan;
}

StatusOr<std::unique_ptr<LiveFault>> CpuStressKind::apply(const v1::FaultSpec& spec, const FaultContext&) {
  CHAOS_ASSIGN_OR_RETURN(const auto plan, cpu_stress_plan_from_spec(spec));
  CHAOS_ASSIGN_OR_RETURN(auto burner, CpuBurner::start(plan.workers, plan.load));
  return std::unique_ptr<LiveFault>(std::make_unique<LiveCpuStress>(plan, std::move(burner)));
}

}  // namespace chaos::agent::stress
