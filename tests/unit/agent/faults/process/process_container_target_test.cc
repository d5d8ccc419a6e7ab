// process.* inside a container (FaultContext::container): only the
// container's pid namespace is searched, pidfiles are read from its root
// without escaping it, and the host's processes are never touched.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "agent/faults/process/process_kill.h"
#include "agent/faults/process/process_pause.h"
#include "agent/faults/process/process_target.h"
#include "tests/unit/agent/fake_process_table.h"

namespace chaos::agent {
namespace {

using namespace std::chrono_literals;
using testing::FakeProcessTable;
using Signals = std::vector<std::pair<int, int>>;

constexpr std::uint64_t kContainerPidns = 4026532777;

class ProcessInContainerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    table_.add(1, "systemd", "/sbin/init");
    table_.add(100, "nats-server", "nats-server -c /host.conf");  // the host's own broker
    table_.add_in_container(300, "busybox", "busybox sleep 1000", kContainerPidns, 1);
    table_.add_in_container(301, "nats-server", "nats-server -c /etc/nats.conf", kContainerPidns, 7);
    table_.add_in_container(302, "nats-server", "nats-server -c /etc/other.conf", kContainerPidns + 1, 1);
    targeting_ = std::make_shared<ProcessTargeting>();
    targeting_->table = &table_;
    targeting_->clock = &clock_;
    targeting_->scope = ProcessScope::kNetns;  // the host scope must not hide the container's processes
    targeting_->effect_timeout = 50ms;
    root_ = std::filesystem::path(::testing::TempDir()) / ("cproc-" + std::to_string(::getpid()));
    std::filesystem::remove_all(root_);
    std::filesystem::create_directories(root_ / "run");
    scope_.ref.set_runtime("podman");
    scope_.ref.set_id("3f2a9c1b7e44aa");
    scope_.ref.set_name("nats-1");
    scope_.ref.set_pid(300);
    scope_.ref.set_pid_start_time(1300);
    scope_.root_path = root_.string();
    context_.container = &scope_;
  }
  void TearDown() override { std::filesystem::remove_all(root_); }

  StatusOr<std::vector<ProcessInfo>> resolve(const v1::ProcessTarget& target) {
    auto area = process_area_of(context_, table_);
    if (!area.ok()) return area.status();
    return resolve_process_target(target, "process_pause.target", *targeting_, 1, *area);
  }

  static std::vector<int> pids(const std::vector<ProcessInfo>& processes) {
    std::vector<int> list;
    for (const auto& process : processes) list.push_back(process.pid);
    return list;
  }

  FakeClock clock_;
  FakeProcessTable table_;
  std::shared_ptr<ProcessTargeting> targeting_;
  std::filesystem::path root_;
  ContainerScope scope_;
  FaultContext context_{"fcont1", "exp", 60s};
};

v1::ProcessTarget name_target(const std::string& name) {
  v1::ProcessTarget target;
  target.set_name(name);
  return target;
}

TEST_F(ProcessInContainerTest, OnlyTheContainersPidNamespaceIsSearched) {
  EXPECT_EQ(pids(*resolve(name_target("nats-server"))), std::vector<int>{301})
      << "not the host's 100, not 302 of another namespace";
  v1::ProcessTarget regex;
  regex.set_cmdline_regex("nats\\.conf");
  EXPECT_EQ(pids(*resolve(regex)), std::vector<int>{301});
  auto none = resolve(name_target("sshd"));
  EXPECT_EQ(none.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(none.status().message(),
            "process_pause.target: no process matches name 'sshd' in container podman nats-1 (3f2a9c1b7e44)");
}

TEST_F(ProcessInContainerTest, APidMustBeAHostPidInsideTheContainer) {
  v1::ProcessTarget target;
  target.set_pid(301);
  EXPECT_EQ(pids(*resolve(target)), std::vector<int>{301});
  target.set_pid(100);
  auto outside = resolve(target);
  EXPECT_EQ(outside.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(outside.status().message(),
            "process_pause.target.pid: pid 100 is not a process of container podman nats-1 (3f2a9c1b7e44)");
}

TEST_F(ProcessInContainerTest, APidfileIsReadUnderTheContainersRootAndHoldsItsNamespacePid) {
  std::ofstream(root_ / "run" / "nats.pid") << "7\n";
  v1::ProcessTarget target;
  target.set_pidfile("/run/nats.pid");
  EXPECT_EQ(pids(*resolve(target)), std::vector<int>{301}) << "pid 7 in the container is host pid 301";
}

TEST_F(ProcessInContainerTest, APidfileCannotLeadOutOfTheContainersRoot) {
  // A directory link the container made to a host path holding a pid file:
  // resolved inside the container's root, it names nothing.
  const auto host_dir = root_.parent_path() / ("cproc-host-" + std::to_string(::getpid()));
  std::filesystem::create_directories(host_dir);
  std::ofstream(host_dir / "x.pid") << "7\n";
  std::filesystem::create_directory_symlink(host_dir, root_ / "escape");
  v1::ProcessTarget target;
  target.set_pidfile("/escape/x.pid");
  auto escaped = resolve(target);
  std::filesystem::remove_all(host_dir);
  EXPECT_EQ(escaped.status().code(), StatusCode::kNotFound) << escaped.status().to_string();
}

TEST_F(ProcessInContainerTest, AContainerWhoseInitIsGoneIsNotFound) {
  scope_.ref.set_pid_start_time(999);  // the pid now names another process
  auto area = process_area_of(context_, table_);
  EXPECT_EQ(area.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(area.status().message(), "container podman nats-1 (3f2a9c1b7e44): its init pid 300 is gone");
}

TEST_F(ProcessInContainerTest, PauseAndKillTouchOnlyTheContainersProcess) {
  ProcessPauseKind pause(targeting_);
  ProcessKillKind kill(targeting_);
  EXPECT_TRUE(pause.acts_in_containers());
  EXPECT_TRUE(kill.acts_in_containers());
  v1::FaultSpec pause_spec;
  *pause_spec.mutable_process_pause()->mutable_target() = name_target("nats-server");
  auto paused = pause.apply(pause_spec, context_);
  ASSERT_TRUE(paused.ok()) << paused.status().to_string();
  EXPECT_EQ(table_.signals(), (Signals{{301, SIGSTOP}}));
  EXPECT_TRUE((*paused)->revert().ok());
  table_.clear_signals();
  v1::FaultSpec kill_spec;
  *kill_spec.mutable_process_kill()->mutable_target() = name_target("nats-server");
  auto killed = kill.apply(kill_spec, context_);
  ASSERT_TRUE(killed.ok()) << killed.status().to_string();
  EXPECT_EQ(table_.signals(), (Signals{{301, SIGKILL}}));
  EXPECT_EQ(table_.state_of(100), 'S') << "the host's broker of the same name lives on";
}

TEST_F(ProcessInContainerTest, RecoveryWithoutUndoResumesOnlyTheContainersStoppedMatches) {
  ProcessPauseKind pause(targeting_);
  table_.add(101, "nats-server", "nats-server").state = 'T';  // stopped on the host by someone else
  table_.add_in_container(303, "nats-server", "nats-server", kContainerPidns, 9).state = 'T';
  v1::FaultSpec spec;
  *spec.mutable_process_pause()->mutable_target() = name_target("nats-server");
  ASSERT_TRUE(pause.recover(spec, context_, nullptr).ok());
  EXPECT_EQ(table_.signals(), (Signals{{303, SIGCONT}}));
  table_.remove(300);  // the container stopped: nothing of it is left to resume
  EXPECT_TRUE(pause.recover(spec, context_, nullptr).ok());
}

}  // namespace
}  // namespace chaos::agent
