#include "agent/faults/stress/memory_stress_kind.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include "agent/faults/stress/cpu_stress_kind.h"
#include "agent/faults/stress/stress_cgroup.h"
#include "agent/faults/stress/stress_workers.h"
#include "agent/process_table.h"

namespace chaos::agent::stress {
namespace {

using namespace std::chrono_literals;

v1::FaultSpec memory_spec(std::uint64_t bytes, double percent = 0, unsigned workers = 0) {
  v1::FaultSpec spec;
  spec.mutable_stress_memory()->set_bytes(bytes);
  spec.mutable_stress_memory()->set_percent(percent);
  spec.mutable_stress_memory()->set_workers(workers);
  return spec;
}

// A directory of crafted files, removed at the end.
class FakeTree {
 public:
  FakeTree() {
    char name[] = "/tmp/chaos-stress-test-XXXXXX";
    root_ = ::mkdtemp(name);
  }
  ~FakeTree() { std::filesystem::remove_all(root_); }
  void write(const std::string& path, const std::string& text) const {
    std::filesystem::create_directories(std::filesystem::path(root_ + "/" + path).parent_path());
    std::ofstream(root_ + "/" + path) << text;
  }
  const std::string& root() const { return root_; }

 private:
  std::string root_;
};

TEST(MemoryStressKind, ValidateNamesTheFieldOfABadSpec) {
  MemoryStressKind kind;
  EXPECT_EQ(kind.validate(v1::FaultSpec()).message(), "stress_memory: missing");
  EXPECT_EQ(kind.validate(memory_spec(0)).message(), "stress_memory: one of bytes and percent is required");
  EXPECT_EQ(kind.validate(memory_spec(64 << 20, 10)).message(), "stress_memory.percent: set bytes or percent, not both");
  EXPECT_EQ(kind.validate(memory_spec(0, 100.5)).message(), "stress_memory.percent: must be in (0, 100]");
  EXPECT_EQ(kind.validate(memory_spec(0, -1)).message(), "stress_memory.percent: must be in (0, 100]");
  EXPECT_EQ(kind.validate(memory_spec(4096)).message(), "stress_memory.bytes: at least 1 MiB");
  EXPECT_EQ(kind.validate(memory_spec((1ULL << 40) + 1)).message(), "stress_memory.bytes: at most 1 TiB");
  EXPECT_EQ(kind.validate(memory_spec(64 << 20, 0, 17)).message(), "stress_memory.workers: at most 16");
  auto targeted = memory_spec(64 << 20);
  targeted.mutable_stress_memory()->mutable_target()->set_pid(-3);
  EXPECT_EQ(kind.validate(targeted).message(), "stress_memory.target.pid: must be positive");
  EXPECT_TRUE(kind.validate(memory_spec(64 << 20, 0, 16)).ok());
  EXPECT_TRUE(kind.validate(memory_spec(0, 25)).ok());
}

TEST(MemoryStressKind, PolicyRefusesBytesAndPercentsOverEitherLimit) {
  Policy policy;
  policy.max_memory_bytes = 256ULL << 20;
  policy.max_memory_percent = 25;
  const std::uint64_t available = 2ULL << 30;
  EXPECT_TRUE(check_memory_limits(policy, {128ULL << 20, 0, 1}, available).ok());
  EXPECT_EQ(check_memory_limits(policy, {512ULL << 20, 0, 1}, available).message(),
            "policy: stress_memory.bytes: 512 MiB exceeds max_memory_bytes 256 MiB");
  EXPECT_EQ(check_memory_limits(policy, {0, 30, 1}, available).message(),
            "policy: stress_memory.percent: 30% exceeds max_memory_percent 25%");
  // 20% of 2 GiB is 409.6 MiB: within the percent limit, over the bytes one.
  EXPECT_EQ(check_memory_limits(policy, {0, 20, 1}, available).message(),
            "policy: stress_memory.percent: 20% of MemAvailable is 409.6 MiB, exceeds max_memory_bytes 256 MiB");
  // 200 MiB is within the bytes limit, over 25% of 512 MiB.
  EXPECT_EQ(check_memory_limits(policy, {200ULL << 20, 0, 1}, 512ULL << 20).message(),
            "policy: stress_memory.bytes: 200 MiB is 39.1% of MemAvailable 512 MiB, exceeds max_memory_percent 25%");
  EXPECT_EQ(check_memory_limits(policy, {0, 10, 1}, std::nullopt).code(), StatusCode::kPermissionDenied);
  EXPECT_TRUE(check_memory_limits(Policy{}, {0, 100, 1}, std::nullopt).ok()) << "no limit, nothing to resolve";
}

TEST(MemoryStressKind, PolicyResolvesAPercentAgainstMemAvailableOfProcMeminfo) {
  FakeTree proc;
  proc.write("meminfo", "MemTotal:       4194304 kB\nMemFree:  100 kB\nMemAvailable:    1048576 kB\n");
  MemoryStressKind kind(StressOptions{nullptr, "/sys/fs/cgroup", proc.root()});
  Policy policy;
  policy.max_memory_bytes = 100ULL << 20;
  EXPECT_EQ(kind.check_policy_limits(policy, memory_spec(0, 50)).message(),
            "policy: stress_memory.percent: 50% of MemAvailable is 512 MiB, exceeds max_memory_bytes 100 MiB");
  EXPECT_TRUE(kind.check_policy_limits(policy, memory_spec(0, 5)).ok());
  EXPECT_EQ(*read_mem_available(proc.root()), 1ULL << 30);
}

TEST(MemoryStressKind, WorkersHoldTheMemoryUntilRevertedAndNothingIsLeft) {
  MemoryStressKind kind;
  EXPECT_TRUE(kind.required_capabilities().empty());
  auto live = kind.apply(memory_spec(16ULL << 20, 0, 2), FaultContext{"m1", "exp", 60s});
  ASSERT_TRUE(live.ok()) << live.status().message();
  EXPECT_EQ((*live)->backend(), "processes");
  auto effect = (*live)->verify_live();
  ASSERT_TRUE(effect.ok()) << effect.status().message();
  EXPECT_TRUE(effect->impaired) << effect->evidence;
  std::uint64_t resident = 0;
  for (const auto& counter : effect->counters) {
    if (counter.name == "resident_bytes") resident = counter.value;
  }
  EXPECT_GE(resident, 16ULL << 20) << effect->evidence;
  EXPECT_NE((*live)->detail().find("16 MiB in 2 workers"), std::string::npos) << (*live)->detail();
  const auto undo = (*live)->undo_record();
  ASSERT_EQ(undo["workers"].size(), 2u);
  for (const auto& worker : undo["workers"]) {
    const auto adj = read_bounded("/proc/" + std::to_string(worker["pid"].get<int>()) + "/oom_score_adj", 64);
    ASSERT_TRUE(adj.has_value());
    EXPECT_EQ(*adj, "1000\n") << "the workers are the OOM killer's first choice";
  }
  EXPECT_TRUE((*live)->on_tick(SteadyTime{}).ok());
  EXPECT_TRUE((*live)->revert().ok());
  EXPECT_TRUE((*live)->revert().ok()) << "revert is idempotent";
  auto gone = (*live)->verify_gone();
  EXPECT_TRUE(gone.ok()) << gone.status().message();
  EXPECT_TRUE(kind.verify_recovered(FaultContext{"m1", "exp", 60s}, undo).ok());
}

TEST(MemoryStressKind, AKilledWorkerEndsTheFaultWithTheReason) {
  MemoryStressKind kind;
  auto live = kind.apply(memory_spec(4ULL << 20), FaultContext{"m2", "exp", 60s});
  ASSERT_TRUE(live.ok()) << live.status().message();
  ASSERT_TRUE((*live)->verify_live().ok());
  const int pid = (*live)->undo_record()["workers"][0]["pid"].get<int>();
  EXPECT_TRUE((*live)->on_tick(SteadyTime{}).ok());
  ASSERT_EQ(::kill(pid, SIGKILL), 0);
  Status ticked;
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (ticked.ok() && std::chrono::steady_clock::now() < deadline) {
    ticked = (*live)->on_tick(SteadyTime{});
    std::this_thread::sleep_for(5ms);
  }
  EXPECT_EQ(ticked.code(), StatusCode::kAborted);
  EXPECT_EQ(ticked.message().rfind("worker_died: stress.memory worker " + std::to_string(pid) +
                                       " was killed by SIGKILL (the OOM killer",
                                   0),
            0u)
      << ticked.message();
  EXPECT_NE(ticked.message().find("after 4"), std::string::npos) << ticked.message();
  EXPECT_TRUE((*live)->revert().ok());
}

TEST(StressWorkers, RecoveryKillsRecordedWorkersThatStillRunAndIgnoresOthers) {
  StressOptions options;
  auto workers = StressWorkers::start("stress.memory", {WorkerJob{WorkerJob::Work::kMemory, 1, 1 << 20}},
                                      std::nullopt, options);
  ASSERT_TRUE(workers.ok()) << workers.status().message();
  const auto undo = (*workers)->undo_record();
  ProcProcessTable table;
  EXPECT_FALSE(recorded_workers_gone("stress.memory", undo, table).ok());
  // A recycled pid (another start time) is never touched.
  nlohmann::json stranger = {{"workers", {{{"pid", ::getpid()}, {"start_time", 1}}}}};
  EXPECT_TRUE(kill_recorded_workers("stress.memory", stranger, table).ok());
  EXPECT_TRUE(kill_recorded_workers("stress.memory", undo, table).ok());
  // Recovery, not the group, ended it: the child died of SIGKILL.
  std::optional<int> status;
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (!(status = (*workers)->workers()[0]->exit_status()) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(5ms);
  }
  ASSERT_TRUE(status.has_value()) << "the recorded worker still runs";
  EXPECT_EQ(WorkerProcess::describe_exit(*status), "was killed by SIGKILL");
  EXPECT_TRUE(kill_recorded_workers("stress.memory", undo, table).ok()) << "idempotent";
  (*workers)->stop();
  EXPECT_TRUE(recorded_workers_gone("stress.memory", undo, table).ok());
  EXPECT_TRUE(kill_recorded_workers("stress.memory", nullptr, table).ok()) << "a crash mid-apply: nothing to do";
  EXPECT_EQ(kill_recorded_workers("stress.memory", {{"workers", {{{"pid", "x"}}}}}, table).code(),
            StatusCode::kInvalidArgument);
}

TEST(StressCgroups, FindsTheV1HierarchyOfTheResourceElseTheV2Cgroup) {
  FakeTree tree;
  tree.write("proc/42/cgroup", "7:memory:/nats\n4:cpu,cpuacct:/nats-cpu\n0::/nats.scope\n");
  tree.write("proc/43/cgroup", "0::/only-v2\n");
  tree.write("cg/memory/nats/cgroup.procs", "42\n");
  tree.write("cg/memory/nats/memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 3\n");
  tree.write("cg/cpu,cpuacct/nats-cpu/cgroup.procs", "42\n");
  tree.write("cg/unified/cgroup.controllers", "");
  tree.write("cg/unified/only-v2/cgroup.procs", "43\n");
  tree.write("cg/unified/only-v2/memory.events", "low 0\nhigh 0\nmax 2\noom 1\noom_kill 1\n");
  const StressCgroups cgroups(tree.root() + "/cg", tree.root() + "/proc");
  auto memory = cgroups.cgroup_of(42, StressResource::kMemory);
  ASSERT_TRUE(memory.ok()) << memory.status().message();
  EXPECT_EQ(memory->describe(), "v1 memory /nats");
  EXPECT_EQ(cgroups.oom_kills(*memory), 3u);
  EXPECT_EQ(cgroups.processes(*memory), std::vector<int>{42});
  auto cpu = cgroups.cgroup_of(42, StressResource::kCpu);
  ASSERT_TRUE(cpu.ok());
  EXPECT_EQ(cpu->directory, tree.root() + "/cg/cpu,cpuacct/nats-cpu");
  auto v2 = cgroups.cgroup_of(43, StressResource::kCpu);
  ASSERT_TRUE(v2.ok()) << v2.status().message();
  EXPECT_EQ(v2->describe(), "v2 /only-v2");
  EXPECT_EQ(cgroups.oom_kills(*v2), 1u);
  EXPECT_EQ(cgroups.cgroup_of(44, StressResource::kMemory).status().code(), StatusCode::kNotFound);
}

TEST(CpuStressKind, ValidateNamesTheTargetField) {
  CpuStressKind kind;
  v1::FaultSpec spec;
  spec.mutable_stress_cpu()->mutable_target()->set_name("");
  EXPECT_EQ(kind.validate(spec).message(), "stress_cpu.target.name: must not be empty");
  spec.mutable_stress_cpu()->mutable_target()->set_name("nats-server");
  EXPECT_TRUE(kind.validate(spec).ok());
  // Placement needs the agent's process table.
  EXPECT_EQ(kind.apply(spec, FaultContext{"c1", "exp", 60s}).status().message(),
            "stress_cpu.target: this agent cannot resolve process targets");
}

}  // namespace
}  // namespace chaos::agent::stress
