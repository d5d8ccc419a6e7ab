// process.* and container.pause inside a real podman container (root,
// podman; --network none, a busybox rootfs), applied through
// ContainerTargetingKind as the agent does: only the container's processes
// are touched, and a container restarted while a fault is live ends that
// fault through a real FaultRegistry with revert reason target_gone.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <mutex>
#include <sstream>

#include "agent/fault_registry.h"
#include "agent/faults/container/container_pause_kind.h"
#include "agent/faults/process/process_kill.h"
#include "agent/faults/process/process_pause.h"
#include "agent/targets/container_targeting_kind.h"
#include "agent/targets/namespaces/namespace_handle.h"
#include "common/command_runner.h"
#include "lab/testbed/agent_harness.h"
#include "metrics/registry.h"
#include "tests/support/fixed_container_finder.h"

namespace chaos::agent::integration {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

// The container runs `busybox sleep 1000` as its init and one child
// `busybox sleep 1001`, the process the tests aim at.
constexpr char kChildRegex[] = "^busybox sleep 1001";

// podman run/restart/rm on a loaded CI machine.
const RunOptions kPodmanTimeout{.stdin_text = "", .timeout = std::chrono::seconds(60)};

class ContainerFaults : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root";
    if (!commands_.run({"podman", "--version"}).ok()) GTEST_SKIP() << "needs podman";
    const std::string test = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    name_ = "chaos-test-" + std::to_string(::getpid()) + "-" + test.substr(0, 24);
    dir_ = fs::temp_directory_path() / name_;
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "rootfs/bin");
    fs::copy_file("/bin/busybox", dir_ / "rootfs/bin/busybox");
    auto started = commands_.run_checked(
        {"podman", "run", "-d", "--name", name_, "--network", "none", "--ulimit", "nofile=1024:1024", "--ulimit",
         "nproc=1024:1024", "--rootfs", (dir_ / "rootfs").string(), "/bin/busybox", "sh", "-c",
         "busybox sleep 1001 & exec busybox sleep 1000"},
        kPodmanTimeout);
    ASSERT_TRUE(started.ok()) << started.status().to_string();
    container_started_ = true;
    ASSERT_TRUE(refresh_ref());
    ASSERT_TRUE(eventually([&] { return child_pid() > 0; }, 5000ms)) << "the container's child never started";
  }

  void TearDown() override {
    if (container_started_) (void)commands_.run({"podman", "rm", "-f", "-t", "0", name_}, kPodmanTimeout);
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
  }

  // The container's init as podman reports it, with what the agent's
  // finder would add: its start time and network namespace.
  bool refresh_ref() {
    auto inspected = commands_.run_checked({"podman", "inspect", "--format", "{{.State.Pid}} {{.Id}}", name_});
    if (!inspected.ok()) return false;
    std::istringstream fields(inspected->stdout_text);
    int pid = 0;
    std::string id;
    fields >> pid >> id;
    const auto stat = ProcReader().stat(pid);
    const auto netns = namespace_of(pid, "net");
    if (pid <= 0 || !stat || !netns.ok()) return false;
    ref_.set_runtime("podman");
    ref_.set_id(id);
    ref_.set_name(name_);
    ref_.set_pid(pid);
    ref_.set_pid_start_time(stat->start_time);
    ref_.set_network_namespace(netns->to_string("net"));
    return true;
  }

  // The host pid of the container's `busybox sleep 1001`, or 0.
  int child_pid() const {
    ProcReader proc;
    for (int pid : proc.pids()) {
      const auto stat = proc.stat(pid);
      if (stat && stat->ppid == ref_.pid() && proc.cmdline(pid).value_or("") == "busybox sleep 1001") return pid;
    }
    return 0;
  }

  v1::FaultSpec targeted(v1::FaultSpec spec) const {
    spec.mutable_target()->set_runtime("podman");
    spec.mutable_target()->set_name(name_);
    return spec;
  }

  std::shared_ptr<ProcessTargeting> targeting() {
    auto targeting = std::make_shared<ProcessTargeting>();
    targeting->table = &table_;
    targeting->clock = &clock_;
    return targeting;
  }

  std::string name_;
  fs::path dir_;
  bool container_started_ = false;
  ProcessCommandRunner commands_;
  ProcProcessTable table_;
  SystemClock clock_;
  v1::ContainerRef ref_;
  FaultContext context_{"fctr1", "exp-ctr", 60s};
};

v1::FaultSpec kill_child() {
  v1::FaultSpec spec;
  spec.mutable_process_kill()->mutable_target()->set_cmdline_regex(kChildRegex);
  return spec;
}

v1::FaultSpec pause_child() {
  v1::FaultSpec spec;
  spec.mutable_process_pause()->mutable_target()->set_cmdline_regex(kChildRegex);
  return spec;
}

v1::FaultSpec pause_container() {
  v1::FaultSpec spec;
  spec.mutable_container_pause();
  return spec;
}

TEST_F(ContainerFaults, KillInAContainerSparesTheHostsProcessOfTheSameName) {
  Victim host("busybox sleep 1001");  // matches the regex, but on the host
  const int child = child_pid();
  chaos::testing::FixedContainerFinder finder(ref_);
  ContainerTargetingKind kill(std::make_unique<ProcessKillKind>(targeting()), &finder, commands_);
  auto live = kill.apply(targeted(kill_child()), context_);
  ASSERT_TRUE(live.ok()) << live.status().to_string();
  EXPECT_EQ((*live)->detail(), "in podman " + name_ + " (" + ref_.id().substr(0, 12) + "): SIGKILL pids " +
                                   std::to_string(child));
  EXPECT_TRUE(eventually([&] { return !ProcReader().stat(child) || ProcReader().stat(child)->dead(); }, 5000ms));
  EXPECT_TRUE(host.running()) << "the host's process was hit: state " << host.state();
  EXPECT_TRUE((*live)->revert().ok());
}

TEST_F(ContainerFaults, PauseInAContainerStopsItsProcessAndRevertResumesIt) {
  Victim host("busybox sleep 1001");
  const int child = child_pid();
  chaos::testing::FixedContainerFinder finder(ref_);
  ContainerTargetingKind pause(std::make_unique<ProcessPauseKind>(targeting()), &finder, commands_);
  auto live = pause.apply(targeted(pause_child()), context_);
  ASSERT_TRUE(live.ok()) << live.status().to_string();
  auto effect = (*live)->verify_live();
  ASSERT_TRUE(effect.ok()) << effect.status().to_string();
  EXPECT_EQ(process_state(child), 'T');
  EXPECT_TRUE(host.running()) << "state " << host.state();
  ASSERT_TRUE((*live)->revert().ok());
  EXPECT_TRUE((*live)->verify_gone().ok());
  EXPECT_NE(process_state(child), 'T');
}

TEST_F(ContainerFaults, ContainerPauseFreezesEveryProcessAndRevertThawsThem) {
  Victim host("busybox sleep 1001");
  const std::vector<int> processes = {ref_.pid(), child_pid()};
  chaos::testing::FixedContainerFinder finder(ref_);
  ContainerTargetingKind pause(std::make_unique<ContainerPauseKind>(), &finder, commands_);
  auto live = pause.apply(targeted(pause_container()), context_);
  ASSERT_TRUE(live.ok()) << live.status().to_string();
  EXPECT_EQ((*live)->backend(), "freezer");
  auto effect = (*live)->verify_live();
  ASSERT_TRUE(effect.ok()) << effect.status().to_string();
  EXPECT_NE(effect->evidence.find("freezer.state reads FROZEN, 2 of 2 tasks in state D"), std::string::npos)
      << effect->evidence;
  // The v1 freezer's frozen tasks read 'D' (v2's read 'S': there the kind
  // relies on cgroup.events).
  for (int pid : processes) EXPECT_EQ(process_state(pid), 'D') << "pid " << pid;
  EXPECT_TRUE(host.running()) << "state " << host.state();
  ASSERT_TRUE((*live)->revert().ok());
  auto gone = (*live)->verify_gone();
  ASSERT_TRUE(gone.ok()) << gone.status().to_string();
  for (int pid : processes) EXPECT_TRUE(eventually([&] { return process_state(pid) == 'S'; }, 5000ms)) << pid;
}

// A registry on the real clock whose tick runs on the test's thread.
class RestartedContainer : public ContainerFaults {
 protected:
  void run_until_target_gone(std::unique_ptr<FaultKind> inner, const v1::FaultSpec& spec) {
    const fs::path state_dir = dir_ / "state";
    FileFaultJournal journal(state_dir.string());
    ASSERT_TRUE(journal.open().ok());
    metrics::Registry metric_registry;
    AgentMetrics metrics(metric_registry, "node-ctr");
    std::vector<std::string> log;
    std::mutex log_mutex;
    FaultRegistryOptions options;
    options.node_name = "node-ctr";
    options.log = [&](const std::string& line) {
      std::lock_guard lock(log_mutex);
      log.push_back(line);
    };
    chaos::testing::FixedContainerFinder finder(ref_);  // outlives the registry's kinds
    FaultRegistry registry(clock_, journal, metrics, options);
    registry.add_kind(std::make_unique<ContainerTargetingKind>(std::move(inner), &finder, commands_));
    InjectCommand inject;
    inject.experiment_id = "exp-ctr";
    inject.duration = 60s;
    inject.spec = targeted(spec);
    auto fault = registry.inject(inject);
    ASSERT_TRUE(fault.ok()) << fault.status().to_string();

    auto restarted = commands_.run_checked({"podman", "restart", "-t", "0", name_}, kPodmanTimeout);
    ASSERT_TRUE(restarted.ok()) << restarted.status().to_string();
    v1::Fault ended;
    const bool reverted = eventually(
        [&] {
          registry.tick();
          for (const auto& listed : registry.list("exp-ctr", true)) {
            if (listed.id() == fault->id() && listed.state() == v1::FAULT_STATE_REVERTED) ended = listed;
          }
          return ended.state() == v1::FAULT_STATE_REVERTED;
        },
        10000ms, 50ms);
    auto log_text = [&] {
      std::lock_guard lock(log_mutex);
      std::string text;
      for (const auto& line : log) text += line + "\n";
      return text;
    };
    ASSERT_TRUE(reverted) << "not reverted after the restart; log:\n" << log_text();
    EXPECT_EQ(ended.revert_reason(), "target_gone") << log_text();
    EXPECT_EQ(registry.live_count(), 0u);
    // An ended fault is not ticked, retried or logged again.
    const std::string before = log_text();
    for (int i = 0; i < 5; ++i) registry.tick();
    EXPECT_EQ(log_text(), before);
  }
};

TEST_F(RestartedContainer, EndsALiveContainerPauseWithTargetGone) {
  run_until_target_gone(std::make_unique<ContainerPauseKind>(), pause_container());
}

TEST_F(RestartedContainer, EndsALiveProcessPauseWithTargetGone) {
  run_until_target_gone(std::make_unique<ProcessPauseKind>(targeting()), pause_child());
}

}  // namespace
}  // namespace chaos::agent::integration
