#include "agent/faults/stress/stress_workers.h"

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <sstream>
#include <thread>

#include "common/proc_reader.h"

namespace chaos::agent::stress {

namespace {

// More recorded workers than any spec allows is a corrupt journal.
constexpr std::size_t kStressMaxRecordedWorkers = 64;
constexpr std::size_t kStressProcStatusBytes = 16 * 1024;
// How long the recovered check waits for killed workers to be gone.
constexpr std::chrono::seconds kStressGoneWait{2};

struct RecordedWorker {
  int pid = 0;
  std::uint64_t start_time = 0;
};

StatusOr<std::vector<RecordedWorker>> recorded_workers(const std::string& kind, const nlohmann::json& undo) {
  std::vector<RecordedWorker> out;
  if (undo.is_null()) return out;  // the crash came mid-apply: the workers died of their pipe
  if (!undo.is_object() || !undo.contains("workers")) return out;
  const auto& list = undo["workers"];
  if (!list.is_array()) return out;  // stress.cpu's threads: {"workers": 2}, gone with the agent
  if (list.size() > kStressMaxRecordedWorkers) {
    return invalid_argument(kind + ": undo record: workers must be a list of at most " +
                            std::to_string(kStressMaxRecordedWorkers));
  }
  for (const auto& entry : list) {
    if (!entry.is_object() || !entry.contains("pid") || !entry["pid"].is_number_integer() ||
        !entry.contains("start_time") || !entry["start_time"].is_number_integer() ||
        (!entry["start_time"].is_number_unsigned() && entry["start_time"].get<std::int64_t>() < 0)) {
      return invalid_argument(kind + ": undo record: a worker needs an integer pid and start_time");
    }
    const auto pid = entry["pid"].get<std::int64_t>();
    if (pid <= 1 || pid > 0x7fffffff) return invalid_argument(kind + ": undo record: pid " + std::to_string(pid));
    out.push_back({static_cast<int>(pid), entry["start_time"].get<std::uint64_t>()});
  }
  return out;
}

bool recorded_worker_runs(ProcessTable& table, const RecordedWorker& worker) {
  const auto process = table.get(worker.pid);
  return process && process->start_time == worker.start_time && process->state != 'Z' && process->state != 'X';
}

// The memory only this worker maps (Private_Clean + Private_Dirty of
// smaps_rollup): what it touched itself. VmRSS would also count the agent's
// pages it shares copy-on-write since the fork.
std::uint64_t stress_private_bytes(const std::string& proc_root, int pid) {
  const auto text = read_bounded(proc_root + "/" + std::to_string(pid) + "/smaps_rollup", kStressProcStatusBytes);
  if (!text) return 0;
  std::istringstream lines(*text);
  std::string key;
  std::uint64_t total_kib = 0;
  while (lines >> key) {
    std::uint64_t kib = 0;
    if ((key == "Private_Clean:" || key == "Private_Dirty:") && lines >> kib) total_kib += kib;
  }
  return total_kib * 1024;
}

}  // namespace

std::string format_bytes(std::uint64_t bytes) {
  static const char* const kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double value = static_cast<double>(bytes);
  std::size_t unit = 0;
  while (value >= 1024 && unit + 1 < sizeof kUnits / sizeof kUnits[0]) {
    value /= 1024;
    ++unit;
  }
  char text[32];
  std::snprintf(text, sizeof text, "%.*f %s", value == static_cast<std::uint64_t>(value) ? 0 : 1, value, kUnits[unit]);
  return text;
}

StatusOr<std::optional<StressPlacement>> resolve_stress_placement(const v1::ProcessTarget* target,
                                                                  const std::string& field,
                                                                  const FaultContext& context,
                                                                  const StressOptions& options,
                                                                  StressResource resource) {
  int pid = 0;
  std::string what;
  if (target != nullptr) {
    if (!options.targeting || options.targeting->table == nullptr) {
      return failed_precondition(field + ": this agent cannot resolve process targets");
    }
    CHAOS_ASSIGN_OR_RETURN(const ProcessArea area, process_area_of(context, *options.targeting->table));
    CHAOS_ASSIGN_OR_RETURN(const auto matches, resolve_process_target(*target, field, *options.targeting, 0, area));
    pid = matches.front().pid;
    what = field + " (pid " + std::to_string(pid) + ")";
  } else if (context.container != nullptr) {
    pid = context.container->ref.pid();
    what = "the container's init (pid " + std::to_string(pid) + ")";
  } else {
    return std::optional<StressPlacement>{};
  }
  auto cgroup = StressCgroups(options.cgroup_root, options.proc_root).cgroup_of(pid, resource);
  if (!cgroup.ok()) return Status(cgroup.status().code(), what + ": " + cgroup.status().message());
  return std::optional<StressPlacement>{StressPlacement{pid, *cgroup}};
}

StatusOr<std::unique_ptr<StressWorkers>> StressWorkers::start(const std::string& kind,
                                                              const std::vector<WorkerJob>& jobs,
                                                              const std::optional<StressPlacement>& placement,
                                                              const StressOptions& options) {
  std::unique_ptr<StressWorkers> group(new StressWorkers(kind, options));
  group->placement_ = placement;
  const StressCgroups cgroups(options.cgroup_root, options.proc_root);
  // A failure returns early; the workers' destructors kill what was spawned.
  for (const auto& job : jobs) {
    auto worker = WorkerProcess::spawn(job, options.proc_root);
    if (!worker.ok()) return Status(worker.status().code(), kind + ": " + worker.status().message());
    group->workers_.push_back(std::move(*worker));
    if (placement) {
      const Status placed = cgroups.place(placement->cgroup, group->workers_.back()->pid());
      if (!placed.ok()) return Status(placed.code(), kind + ": placing a worker: " + placed.message());
    }
  }
  for (auto& worker : group->workers_) {
    const Status started = worker->start();
    if (!started.ok()) return Status(started.code(), kind + ": " + started.message());
  }
  return group;
}

void StressWorkers::stop() {
  stopped_ = true;
  for (auto& worker : workers_) worker->kill_and_reap();
}

std::optional<StressWorkers::Death> StressWorkers::first_death() {
  if (stopped_) return std::nullopt;
  for (auto& worker : workers_) {
    if (const auto status = worker->exit_status()) {
      return Death{worker->pid(), WorkerProcess::describe_exit(*status), *status};
    }
  }
  return std::nullopt;
}

std::uint64_t StressWorkers::resident_bytes() const {
  std::uint64_t total = 0;
  for (const int pid : alive()) total += stress_private_bytes(options_.proc_root, pid);
  return total;
}

double StressWorkers::cpu_seconds() const {
  const ProcReader proc(options_.proc_root);
  const long ticks_per_second = ::sysconf(_SC_CLK_TCK);
  std::uint64_t ticks = 0;
  for (const int pid : alive()) {
    if (const auto stat = proc.stat(pid)) ticks += stat->user_ticks + stat->system_ticks;
  }
  return ticks_per_second > 0 ? static_cast<double>(ticks) / static_cast<double>(ticks_per_second) : 0;
}

std::vector<int> StressWorkers::alive() const {
  const ProcReader proc(options_.proc_root);
  std::vector<int> pids;
  for (const auto& worker : workers_) {
    const auto stat = proc.stat(worker->pid());
    if (stat && !stat->dead() && stat->start_time == worker->start_time()) pids.push_back(worker->pid());
  }
  return pids;
}

std::string StressWorkers::pids() const {
  std::string text;
  for (const auto& worker : workers_) text += (text.empty() ? "" : ",") + std::to_string(worker->pid());
  return text;
}

nlohmann::json StressWorkers::undo_record() const {
  auto list = nlohmann::json::array();
  for (const auto& worker : workers_) list.push_back({{"pid", worker->pid()}, {"start_time", worker->start_time()}});
  return {{"workers", list}};
}

Status kill_recorded_workers(const std::string& kind, const nlohmann::json& undo_record, ProcessTable& table) {
  CHAOS_ASSIGN_OR_RETURN(const auto workers, recorded_workers(kind, undo_record));
  for (const auto& worker : workers) {
    if (!recorded_worker_runs(table, worker)) continue;
    const Status killed = table.send_signal(worker.pid, worker.start_time, SIGKILL);
    if (!killed.ok() && killed.code() != StatusCode::kNotFound) {
      return Status(killed.code(), kind + ": worker " + std::to_string(worker.pid) + ": " + killed.message());
    }
  }
  return {};
}

StatusOr<std::string> recorded_workers_gone(const std::string& kind, const nlohmann::json& undo_record,
                                            ProcessTable& table) {
  CHAOS_ASSIGN_OR_RETURN(const auto workers, recorded_workers(kind, undo_record));
  const auto deadline = std::chrono::steady_clock::now() + kStressGoneWait;
  for (;;) {
    std::string running;
    for (const auto& worker : workers) {
      if (recorded_worker_runs(table, worker)) running += (running.empty() ? "" : ",") + std::to_string(worker.pid);
    }
    if (running.empty()) return std::to_string(workers.size()) + " recorded worker processes are gone";
    if (std::chrono::steady_clock::now() >= deadline) {
      return failed_precondition(kind + ": worker processes " + running + " still run");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

}  // namespace chaos::agent::stress
