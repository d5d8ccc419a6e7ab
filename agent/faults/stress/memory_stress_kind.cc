#include "agent/faults/stress/memory_stress_kind.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <mutex>
#include <sstream>
#include <thread>

#include "common/proc_reader.h"

namespace chaos::agent::stress {

namespace {

constexpr std::size_t kMemStressMeminfoBytes = 64 * 1024;
// How long the live check waits for the workers to touch their memory: a
// base plus a second per 256 MiB (page faults run at a few GiB/s, slower
// when the kernel must reclaim first).
constexpr std::chrono::seconds kMemStressReadyBase{10};
constexpr std::uint64_t kMemStressBytesPerSecond = 256ULL << 20;

std::string mem_stress_percent(double percent) {
  char text[32];
  std::snprintf(text, sizeof text, "%g%%", percent);
  return text;
}

std::uint64_t mem_stress_share(std::uint64_t total, unsigned workers, unsigned index) {
  const std::uint64_t share = total / workers;
  return index + 1 == workers ? total - share * (workers - 1) : share;
}

class LiveMemoryStress final : public LiveFault {
 public:
  LiveMemoryStress(std::uint64_t bytes, std::unique_ptr<StressWorkers> workers, std::optional<StressCgroup> memcg,
                   std::optional<std::uint64_t> oom_kills_before, StressOptions options)
      : bytes_(bytes),
        workers_(std::move(workers)),
        memcg_(std::move(memcg)),
        oom_kills_before_(oom_kills_before),
        options_(std::move(options)) {}

  std::string backend() const override { return "processes"; }

  // "64 MiB in 2 workers (pids 412,415), resident 64 MiB, in v1 memory /chaos"
  std::string detail() const override {
    std::lock_guard<std::mutex> lock(mutex_);
    std::string text = format_bytes(bytes_) + " in " + std::to_string(workers_->workers().size()) +
                       (workers_->workers().size() == 1 ? " worker" : " workers") + " (pids " + workers_->pids() +
                       "), resident " + format_bytes(workers_->resident_bytes());
    if (workers_->placement()) text += ", in " + workers_->placement()->cgroup.describe();
    return text;
  }

  nlohmann::json undo_record() const override {
    std::lock_guard<std::mutex> lock(mutex_);
    auto record = workers_->undo_record();
    record["bytes"] = bytes_;
    return record;
  }

  Status revert() override {
    std::lock_guard<std::mutex> lock(mutex_);
    workers_->stop();
    return {};
  }

  Status on_tick(SteadyTime) override {
    std::lock_guard<std::mutex> lock(mutex_);
    for (const auto& worker : workers_->workers()) (void)worker->ready();  // keeps the report pipes drained
    if (auto why = death_locked()) return aborted("worker_died: " + *why);
    return {};
  }

  StatusOr<FaultEffect> verify_live() override {
    const auto deadline = std::chrono::steady_clock::now() + kMemStressReadyBase +
                          std::chrono::seconds(bytes_ / kMemStressBytesPerSecond);
    for (;;) {
      {
        std::lock_guard<std::mutex> lock(mutex_);
            if (auto why = death_locked()) return failed_precondition(*why);
        if (all_ready_locked()) break;
      }
      if (std::chrono::steady_clock::now() >= deadline) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return observe();
  }

  // The workers' own resident memory from /proc: armed until every worker has touched its
  // share, then verified.
  StatusOr<FaultEffect> observe() override {
    std::lock_guard<std::mutex> lock(mutex_);
    if (auto why = death_locked()) return failed_precondition(*why);
    const auto alive = workers_->alive();
    if (alive.size() != workers_->workers().size()) {
      return failed_precondition("stress.memory: " + std::to_string(alive.size()) + " of " +
                                 std::to_string(workers_->workers().size()) + " worker processes run");
    }
    const std::uint64_t rss = workers_->resident_bytes();
    FaultEffect effect;
    effect.impaired = all_ready_locked();
    effect.evidence = std::to_string(alive.size()) + " worker processes (pids " + workers_->pids() + ") hold " +
                      format_bytes(rss) + " resident of the " + format_bytes(bytes_) +
                      " asked (private pages, smaps_rollup)" +
                      (effect.impaired ? "" : ", still allocating");
    if (workers_->placement()) effect.evidence += ", in " + workers_->placement()->cgroup.describe();
    effect.counters = {{"workers_running", alive.size()}, {"resident_bytes", rss}, {"target_bytes", bytes_}};
    return effect;
  }

  StatusOr<std::string> verify_gone() override {
    std::lock_guard<std::mutex> lock(mutex_);
    const auto alive = workers_->alive();
    if (!alive.empty()) {
      std::string pids;
      for (const int pid : alive) pids += (pids.empty() ? "" : ",") + std::to_string(pid);
      return failed_precondition("stress.memory: worker processes " + pids + " still run");
    }
    return "worker processes " + workers_->pids() + " are gone";
  }

 private:
  bool all_ready_locked() {
    for (const auto& worker : workers_->workers()) {
      if (!worker->ready()) return false;
    }
    return true;
  }

  // "stress.memory worker 1234 was killed by SIGKILL (the OOM killer:
  // oom_kill 0 -> 1 in v1 memory /chaos) after 31 MiB"
  std::optional<std::string> death_locked() {
    auto death = workers_->first_death();
    if (!death) return std::nullopt;
    std::string text = "stress.memory worker " + std::to_string(death->pid) + " " + death->how;
    if (death->how == "was killed by SIGKILL") {
      const auto now = memcg_ ? StressCgroups(options_.cgroup_root, options_.proc_root).oom_kills(*memcg_)
                              : std::nullopt;
      if (now && oom_kills_before_ && *now > *oom_kills_before_) {
        text += " (the OOM killer: oom_kill " + std::to_string(*oom_kills_before_) + " -> " + std::to_string(*now) +
                " in " + memcg_->describe() + ")";
      } else {
        text += " (the OOM killer?)";
      }
    }
    for (const auto& worker : workers_->workers()) {
      if (worker->pid() == death->pid) text += " after " + format_bytes(worker->touched_bytes());
    }
    return text;
  }

  const std::uint64_t bytes_;
  mutable std::mutex mutex_;  // on_tick, observe and revert come from different threads
  const std::unique_ptr<StressWorkers> workers_;
  const std::optional<StressCgroup> memcg_;
  const std::optional<std::uint64_t> oom_kills_before_;
  const StressOptions options_;
};

}  // namespace

StatusOr<MemoryStressPlan> memory_stress_plan_from_spec(const v1::FaultSpec& spec) {
  if (!spec.has_stress_memory()) return invalid_argument("stress_memory: missing");
  const auto& proto = spec.stress_memory();
  MemoryStressPlan plan;
  const double percent = proto.percent();
  if (!std::isfinite(percent) || percent < 0 || percent > 100) {
    return invalid_argument("stress_memory.percent: must be in (0, 100]");
  }
  if (proto.bytes() != 0 && percent != 0) return invalid_argument("stress_memory.percent: set bytes or percent, not both");
  if (proto.bytes() == 0 && percent == 0) return invalid_argument("stress_memory: one of bytes and percent is required");
  if (proto.bytes() != 0 && proto.bytes() < kMinStressMemoryBytes) {
    return invalid_argument("stress_memory.bytes: at least " + format_bytes(kMinStressMemoryBytes));
  }
  if (proto.bytes() > kMaxStressMemoryBytes) {
    return invalid_argument("stress_memory.bytes: at most " + format_bytes(kMaxStressMemoryBytes));
  }
  if (proto.workers() > kMaxMemoryWorkers) {
    return invalid_argument("stress_memory.workers: at most " + std::to_string(kMaxMemoryWorkers));
  }
  if (proto.has_target()) CHAOS_RETURN_IF_ERROR(validate_process_target(proto.target(), "stress_memory.target"));
  plan.bytes = proto.bytes();
  plan.percent = percent;
  plan.workers = proto.workers() == 0 ? 1 : proto.workers();
  return plan;
}

StatusOr<std::uint64_t> read_mem_available(const std::string& proc_root) {
  const std::string file = proc_root + "/meminfo";
  const auto text = read_bounded(file, kMemStressMeminfoBytes);
  if (!text) return failed_precondition(file + ": cannot be read");
  const auto at = text->find("MemAvailable:");
  if (at == std::string::npos) return failed_precondition(file + ": no MemAvailable line");
  std::istringstream fields(text->substr(at + 13));
  std::uint64_t kib = 0;
  if (!(fields >> kib)) return failed_precondition(file + ": MemAvailable is not a number");
  return kib * 1024;
}

Status check_memory_limits(const Policy& policy, const MemoryStressPlan& plan,
                           std::optional<std::uint64_t> mem_available) {
  if (plan.bytes != 0) {
    if (policy.max_memory_bytes && plan.bytes > *policy.max_memory_bytes) {
      return permission_denied("policy: stress_memory.bytes: " + format_bytes(plan.bytes) + " exceeds max_memory_bytes " +
                               format_bytes(*policy.max_memory_bytes));
    }
    if (policy.max_memory_percent) {
      if (!mem_available) return permission_denied("policy: stress_memory.bytes: MemAvailable is unknown, so max_memory_percent cannot be checked");
      const double share = static_cast<double>(plan.bytes) * 100 / static_cast<double>(std::max<std::uint64_t>(*mem_available, 1));
      if (share > *policy.max_memory_percent) {
        return permission_denied("policy: stress_memory.bytes: " + format_bytes(plan.bytes) + " is " +
                                 mem_stress_percent(std::round(share * 10) / 10) + " of MemAvailable " +
                                 format_bytes(*mem_available) + ", exceeds max_memory_percent " +
                                 mem_stress_percent(*policy.max_memory_percent));
      }
    }
    return {};
  }
  if (policy.max_memory_percent && plan.percent > *policy.max_memory_percent) {
    return permission_denied("policy: stress_memory.percent: " + mem_stress_percent(plan.percent) +
                             " exceeds max_memory_percent " + mem_stress_percent(*policy.max_memory_percent));
  }
  if (policy.max_memory_bytes) {
    if (!mem_available) return permission_denied("policy: stress_memory.percent: MemAvailable is unknown, so max_memory_bytes cannot be checked");
    const auto resolved = static_cast<std::uint64_t>(static_cast<double>(*mem_available) * plan.percent / 100);
    if (resolved > *policy.max_memory_bytes) {
      return permission_denied("policy: stress_memory.percent: " + mem_stress_percent(plan.percent) +
                               " of MemAvailable is " + format_bytes(resolved) + ", exceeds max_memory_bytes " +
                               format_bytes(*policy.max_memory_bytes));
    }
  }
  return {};
}

Status MemoryStressKind::validate(const v1::FaultSpec& spec) const {
  return memory_stress_plan_from_spec(spec).status();
}

Status MemoryStressKind::check_policy_limits(const Policy& policy, const v1::FaultSpec& spec) const {
  CHAOS_ASSIGN_OR_RETURN(const auto plan, memory_stress_plan_from_spec(spec));
  std::optional<std::uint64_t> available;
  if (policy.max_memory_bytes || policy.max_memory_percent) {
    if (auto read = read_mem_available(options_.proc_root); read.ok()) available = *read;
  }
  return check_memory_limits(policy, plan, available);
}

Status MemoryStressKind::check_targets(const v1::FaultSpec& spec) {
  if (!spec.has_stress_memory() || !spec.stress_memory().has_target()) return {};
  return resolve_stress_placement(&spec.stress_memory().target(), "stress_memory.target", FaultContext{}, options_,
                                  StressResource::kMemory)
      .status();
}

StatusOr<std::unique_ptr<LiveFault>> MemoryStressKind::apply(const v1::FaultSpec& spec, const FaultContext& context) {
  CHAOS_ASSIGN_OR_RETURN(const auto plan, memory_stress_plan_from_spec(spec));
  std::uint64_t bytes = plan.bytes;
  if (bytes == 0) {
    CHAOS_ASSIGN_OR_RETURN(const auto available, read_mem_available(options_.proc_root));
    bytes = static_cast<std::uint64_t>(static_cast<double>(available) * plan.percent / 100);
  }
  if (bytes < plan.workers * kMinStressMemoryBytes) {
    return failed_precondition("stress_memory: " + format_bytes(bytes) + " is less than 1 MiB per worker");
  }
  const auto& proto = spec.stress_memory();
  CHAOS_ASSIGN_OR_RETURN(auto placement,
                         resolve_stress_placement(proto.has_target() ? &proto.target() : nullptr,
                                                  "stress_memory.target", context, options_, StressResource::kMemory));
  // The memory cgroup the workers will be in, for the OOM-kill evidence:
  // the target's, or the agent's own, which they inherit.
  const StressCgroups cgroups(options_.cgroup_root, options_.proc_root);
  std::optional<StressCgroup> memcg;
  if (placement) {
    memcg = placement->cgroup;
  } else if (auto own = cgroups.cgroup_of(static_cast<int>(::getpid()), StressResource::kMemory); own.ok()) {
    memcg = *own;
  }
  const auto oom_kills_before = memcg ? cgroups.oom_kills(*memcg) : std::nullopt;
  std::vector<WorkerJob> jobs;
  for (unsigned i = 0; i < plan.workers; ++i) {
    jobs.push_back(WorkerJob{WorkerJob::Work::kMemory, 1.0, mem_stress_share(bytes, plan.workers, i)});
  }
  CHAOS_ASSIGN_OR_RETURN(auto workers, StressWorkers::start(name(), jobs, placement, options_));
  return std::unique_ptr<LiveFault>(
      std::make_unique<LiveMemoryStress>(bytes, std::move(workers), memcg, oom_kills_before, options_));
}

ProcessTable& MemoryStressKind::table() {
  if (options_.targeting && options_.targeting->table) return *options_.targeting->table;
  if (!own_table_) own_table_ = std::make_unique<ProcProcessTable>(options_.proc_root);
  return *own_table_;
}

Status MemoryStressKind::recover(const v1::FaultSpec&, const FaultContext&, const nlohmann::json& undo_record) {
  return kill_recorded_workers(name(), undo_record, table());
}

StatusOr<std::string> MemoryStressKind::verify_recovered(const FaultContext&, const nlohmann::json& undo_record) {
  return recorded_workers_gone(name(), undo_record, table());
}

}  // namespace chaos::agent::stress
