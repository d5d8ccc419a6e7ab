// stress.memory and placed stress.cpu against the real kernel (root): the
// real agent's workers hold the memory (measured from /proc), revert and a
// SIGKILLed agent leave no worker; in cgroups this test creates, an OOM
// kill ends the fault with its reason while the agent lives on, and placed
// CPU workers are listed in the target's cgroup.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "agent/faults/stress/cpu_stress_kind.h"
#include "agent/faults/stress/memory_stress_kind.h"
#include "lab/testbed/agent_harness.h"

namespace chaos::agent::integration {
namespace {

using namespace std::chrono_literals;

std::string stress_read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

bool stress_process_exists(int pid) {
  const std::string stat = stress_read_text("/proc/" + std::to_string(pid) + "/stat");
  if (stat.empty()) return false;
  const auto close = stat.rfind(')');
  return close != std::string::npos && stat.size() > close + 2 && stat[close + 2] != 'Z';
}

// Private_Clean + Private_Dirty of smaps_rollup: the memory only `pid` maps.
std::uint64_t stress_private_bytes_of(int pid) {
  std::istringstream lines(stress_read_text("/proc/" + std::to_string(pid) + "/smaps_rollup"));
  std::string key;
  std::uint64_t total = 0;
  while (lines >> key) {
    std::uint64_t kib = 0;
    if ((key == "Private_Clean:" || key == "Private_Dirty:") && lines >> kib) total += kib * 1024;
  }
  return total;
}

// "... (pids 412,415) ..." of a stress detail or evidence line.
std::vector<int> stress_pids_in(const std::string& text) {
  std::vector<int> pids;
  const auto at = text.find("(pids ");
  if (at == std::string::npos) return pids;
  std::istringstream list(text.substr(at + 6, text.find(')', at) - at - 6));
  std::string pid;
  while (std::getline(list, pid, ',')) pids.push_back(std::stoi(pid));
  return pids;
}

std::vector<int> stress_cgroup_procs(const std::string& directory) {
  std::vector<int> pids;
  std::istringstream lines(stress_read_text(directory + "/cgroup.procs"));
  int pid = 0;
  while (lines >> pid) pids.push_back(pid);
  return pids;
}

// A v1 cgroup of one controller this test creates and removes, also on
// failure: its processes are moved back to the root first.
class StressTestCgroup {
 public:
  StressTestCgroup(const std::string& controller, const std::string& name)
      : directory_("/sys/fs/cgroup/" + controller + "/" + name), root_("/sys/fs/cgroup/" + controller) {
    std::filesystem::create_directory(directory_);
  }
  ~StressTestCgroup() {
    for (const int pid : stress_cgroup_procs(directory_)) std::ofstream(root_ + "/cgroup.procs") << pid << "\n";
    eventually([&] { return ::rmdir(directory_.c_str()) == 0 || errno == ENOENT; }, 5s);
  }
  bool write(const std::string& file, const std::string& value) const {
    std::ofstream out(directory_ + "/" + file);
    out << value;
    out.flush();
    return static_cast<bool>(out);
  }
  const std::string& directory() const { return directory_; }

 private:
  std::string directory_;
  std::string root_;
};

class AgentStressFaults : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root (cgroups)";
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    name_ = "cag-stress-" + std::string(info->name()) + "-" + std::to_string(::getpid());
    dir_ = std::filesystem::temp_directory_path() / name_;
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    targeting_ = std::make_shared<ProcessTargeting>();
    targeting_->table = &table_;
    options_.targeting = targeting_;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  static v1::InjectRequest memory_request(std::uint64_t bytes, unsigned workers) {
    v1::InjectRequest request;
    request.set_experiment_id("cag-stress");
    request.mutable_duration()->set_seconds(60);
    request.mutable_spec()->mutable_stress_memory()->set_bytes(bytes);
    request.mutable_spec()->mutable_stress_memory()->set_workers(workers);
    return request;
  }

  std::string name_;
  std::filesystem::path dir_;
  ProcProcessTable table_;
  std::shared_ptr<ProcessTargeting> targeting_;
  stress::StressOptions options_;
};

TEST_F(AgentStressFaults, RealAgentWorkersHoldTheMemoryAndRevertEndsThem) {
  AgentProcess agent((dir_ / "state").string(), (dir_ / "agent.log").string());
  ASSERT_TRUE(agent.start()) << agent.log();
  // -900 where the agent holds CAP_SYS_RESOURCE; else it says it is not
  // protected (the workers at 1000 are still chosen first).
  const std::string agent_adj = stress_read_text("/proc/" + std::to_string(agent.pid()) + "/oom_score_adj");
  if (agent_adj != "-900\n") {
    EXPECT_NE(agent.log().find("chaos-agent: not protected from the OOM killer: "), std::string::npos) << agent_adj;
  }
  v1::InjectResponse response;
  {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + 30s);
    ASSERT_TRUE(agent.stub().Inject(&context, memory_request(64ULL << 20, 2), &response).ok()) << agent.log();
  }
  EXPECT_EQ(response.fault().backend(), "processes");
  const auto pids = stress_pids_in(response.fault().detail());
  ASSERT_EQ(pids.size(), 2u) << response.fault().detail();
  std::uint64_t held = 0;
  for (const int pid : pids) {
    held += stress_private_bytes_of(pid);
    EXPECT_EQ(stress_read_text("/proc/" + std::to_string(pid) + "/oom_score_adj"), "1000\n");
  }
  EXPECT_GE(held, 64ULL << 20) << "measured from /proc/PID/smaps_rollup";
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + 10s);
  v1::RevertRequest revert;
  revert.set_fault_id(response.fault().id());
  v1::RevertResponse reverted;
  ASSERT_TRUE(agent.stub().Revert(&context, revert, &reverted).ok());
  for (const int pid : pids) EXPECT_FALSE(stress_process_exists(pid)) << "worker " << pid << " outlived the revert";
}

TEST_F(AgentStressFaults, AgentSigkilledMidFaultLeavesNoWorkerAfterRestart) {
  auto agent = std::make_unique<AgentProcess>((dir_ / "state").string(), (dir_ / "agent.log").string());
  ASSERT_TRUE(agent->start()) << agent->log();
  v1::InjectResponse response;
  {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + 30s);
    ASSERT_TRUE(agent->stub().Inject(&context, memory_request(32ULL << 20, 2), &response).ok()) << agent->log();
  }
  const auto pids = stress_pids_in(response.fault().detail());
  ASSERT_EQ(pids.size(), 2u) << response.fault().detail();
  agent->kill_hard();
  // End-of-file on their control pipe ends them without any agent.
  EXPECT_TRUE(eventually([&] { return !stress_process_exists(pids[0]) && !stress_process_exists(pids[1]); }, 5s));
  AgentProcess restarted((dir_ / "state").string(), (dir_ / "agent2.log").string());
  ASSERT_TRUE(restarted.start()) << restarted.log();
  EXPECT_TRUE(std::filesystem::is_empty(dir_ / "state" / "journal")) << restarted.log();
  for (const int pid : pids) EXPECT_FALSE(stress_process_exists(pid));
}

TEST_F(AgentStressFaults, OomKillInTheTargetsMemoryCgroupEndsTheFaultWithTheReason) {
  StressTestCgroup cgroup("memory", name_);
  ASSERT_TRUE(cgroup.write("memory.limit_in_bytes", "33554432")) << "no v1 memory controller";
  cgroup.write("memory.memsw.limit_in_bytes", "33554432");  // where swap accounting exists
  Victim victim;
  ASSERT_TRUE(cgroup.write("cgroup.procs", std::to_string(victim.pid())));
  stress::MemoryStressKind kind(options_);
  v1::FaultSpec spec;
  spec.mutable_stress_memory()->set_bytes(128ULL << 20);
  spec.mutable_stress_memory()->mutable_target()->set_pid(victim.pid());
  auto live = kind.apply(spec, FaultContext{"oom1", "exp", 60s});
  ASSERT_TRUE(live.ok()) << live.status().message();
  Status ended;
  eventually([&] { return !(ended = (*live)->on_tick(SteadyTime{})).ok(); }, 30s, 10ms);
  EXPECT_EQ(ended.code(), StatusCode::kAborted);
  EXPECT_NE(ended.message().find("worker_died: stress.memory worker "), std::string::npos) << ended.message();
  EXPECT_NE(ended.message().find("was killed by SIGKILL (the OOM killer: oom_kill 0 -> 1 in v1 memory /" + name_ + ")"),
            std::string::npos)
      << ended.message();
  EXPECT_TRUE((*live)->revert().ok());
  EXPECT_TRUE((*live)->verify_gone().ok());
  EXPECT_TRUE(victim.running()) << "the worker, not the target, was the victim";
}

TEST_F(AgentStressFaults, PlacedCpuWorkersRunInTheTargetsCpuCgroup) {
  StressTestCgroup cgroup("cpu", name_);  // a link to cpu,cpuacct where systemd mounts them together
  Victim victim;
  ASSERT_TRUE(cgroup.write("cgroup.procs", std::to_string(victim.pid())));
  stress::CpuStressKind kind(options_);
  v1::FaultSpec spec;
  spec.mutable_stress_cpu()->set_workers(2);
  spec.mutable_stress_cpu()->set_load_percent(50);
  spec.mutable_stress_cpu()->mutable_target()->set_pid(victim.pid());
  auto live = kind.apply(spec, FaultContext{"cpu1", "exp", 60s});
  ASSERT_TRUE(live.ok()) << live.status().message();
  EXPECT_EQ((*live)->backend(), "processes");
  auto effect = (*live)->verify_live();
  ASSERT_TRUE(effect.ok()) << effect.status().message();
  const auto workers = stress_pids_in(effect->evidence);
  ASSERT_EQ(workers.size(), 2u) << effect->evidence;
  const auto members = stress_cgroup_procs(cgroup.directory());
  for (const int pid : workers) {
    EXPECT_NE(std::find(members.begin(), members.end(), pid), members.end()) << "worker " << pid << " not placed";
  }
  EXPECT_NE((*live)->detail().find("2 workers at 50%"), std::string::npos) << (*live)->detail();
  EXPECT_NE((*live)->detail().find("in v1 cpu"), std::string::npos) << (*live)->detail();
  EXPECT_NE((*live)->detail().find(" /" + name_), std::string::npos) << (*live)->detail();
  EXPECT_TRUE((*live)->revert().ok());
  EXPECT_TRUE((*live)->verify_gone().ok());
  EXPECT_EQ(stress_cgroup_procs(cgroup.directory()), std::vector<int>{victim.pid()});
}

}  // namespace
}  // namespace chaos::agent::integration
