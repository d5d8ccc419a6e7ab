// container.pause against a fake cgroup tree and a fake /proc in a temp
// dir: the test plays the kernel (it flips task states and cgroup.events
// the way the kernel would), the kind only writes the control files.
#include "agent/faults/container/container_pause_kind.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "agent/faults/container/container_fault_kinds.h"

namespace chaos::agent {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

constexpr char kPath[] = "/libpod_parent/libpod-3f2a9c1b7e44";

std::string read(const fs::path& file) {
  std::ifstream in(file);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

void write(const fs::path& file, const std::string& text) {
  fs::create_directories(file.parent_path());
  std::ofstream(file) << text;
}

class ContainerPauseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) /
           ("cpause-" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()) + "-" +
            std::to_string(::getpid()));
    fs::remove_all(dir_);
    // Hybrid, like the build machine: a v1 freezer and a v2 hierarchy at unified/.
    write(dir_ / "cgroup/freezer/cgroup.procs", "1\n");
    write(v1_dir() / "freezer.state", "THAWED\n");
    write(v1_dir() / "cgroup.procs", "300\n301\n");
    write(v1_dir() / "tasks", "300\n301\n302\n");
    write(dir_ / "cgroup/unified/cgroup.controllers", "cpu memory pids\n");
    write(v2_dir() / "cgroup.freeze", "0\n");
    write(v2_dir() / "cgroup.events", "populated 1\nfrozen 0\n");
    write(v2_dir() / "cgroup.procs", "300\n301\n");
    for (int pid : {300, 301, 302}) set_task_state(pid, 'S');
    write(dir_ / "proc/300/cgroup", std::string("6:freezer:") + kPath + "\n4:memory:" + kPath + "\n0::" + kPath + "\n");
    write(dir_ / "proc/self/cgroup", "6:freezer:/agent\n0::/agent\n");
    write(dir_ / "proc/1/cgroup", "6:freezer:/\n0::/init.scope\n");
    scope_.ref.set_runtime("podman");
    scope_.ref.set_id("3f2a9c1b7e44aa");
    scope_.ref.set_name("nats-1");
    scope_.ref.set_pid(300);
    scope_.ref.set_pid_start_time(4242);
    context_.container = &scope_;
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path v1_dir() const { return dir_ / "cgroup/freezer" / (kPath + 1); }
  fs::path v2_dir() const { return dir_ / "cgroup/unified" / (kPath + 1); }

  // The kernel's view of one task: "PID (comm) STATE ..." with its start
  // time in field 22.
  void set_task_state(int pid, char state) {
    std::string stat = std::to_string(pid) + " (busybox) " + state + " 1";
    for (int field = 5; field <= 21; ++field) stat += " 0";
    stat += " 4242 0 0\n";
    write(dir_ / "proc" / std::to_string(pid) / "stat", stat);
  }

  // A machine without the v1 freezer: only the v2 hierarchy, at the root.
  void make_pure_v2() {
    fs::remove_all(dir_ / "cgroup");
    write(dir_ / "cgroup/cgroup.controllers", "cpu memory pids\n");
    write(dir_ / "cgroup" / (kPath + 1) / "cgroup.freeze", "0\n");
    write(dir_ / "cgroup" / (kPath + 1) / "cgroup.events", "populated 1\nfrozen 0\n");
    write(dir_ / "cgroup" / (kPath + 1) / "cgroup.procs", "300\n301\n");
  }

  ContainerPauseKind kind() const {
    ContainerPauseOptions options;
    options.cgroup_root = (dir_ / "cgroup").string();
    options.proc_root = (dir_ / "proc").string();
    options.effect_timeout = 50ms;  // real time; only reached when the check is meant to fail
    return ContainerPauseKind(options);
  }

  static v1::FaultSpec spec() {
    v1::FaultSpec spec;
    spec.mutable_container_pause();
    return spec;
  }

  fs::path dir_;
  ContainerScope scope_;
  FaultContext context_{"fcp1", "exp", 60s};
};

TEST_F(ContainerPauseTest, V1FreezesThroughFreezerStateAndIsVerifiedByEveryTaskInStateD) {
  auto pause = kind();
  EXPECT_TRUE(pause.needs_container_target());
  EXPECT_EQ(pause.backend(), "freezer");
  EXPECT_FALSE(pause.effect_survives_reboot());
  auto live = pause.apply(spec(), context_);
  ASSERT_TRUE(live.ok()) << live.status().to_string();
  EXPECT_EQ(read(v1_dir() / "freezer.state"), "FROZEN\n");
  EXPECT_EQ(read(v2_dir() / "cgroup.freeze"), "0\n") << "the v1 freezer is preferred where it is mounted";
  EXPECT_EQ((*live)->backend(), "freezer");
  const std::string file = (v1_dir() / "freezer.state").string();
  EXPECT_EQ((*live)->undo_record()["file"], file);
  EXPECT_EQ((*live)->undo_record()["cgroup"], kPath);
  EXPECT_EQ((*live)->undo_record()["container"]["id"], "3f2a9c1b7e44aa");

  // The kernel froze two tasks of three so far: not yet in effect.
  set_task_state(300, 'D');
  set_task_state(301, 'D');
  auto partly = (*live)->verify_live();
  EXPECT_EQ(partly.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(partly.status().message(),
            "container.pause: " + file + " reads FROZEN, 2 of 3 tasks in state D, 50ms after freezing");
  set_task_state(302, 'D');
  auto effect = (*live)->verify_live();
  ASSERT_TRUE(effect.ok()) << effect.status().to_string();
  EXPECT_TRUE(effect->impaired);
  EXPECT_EQ(effect->evidence, file + " reads FROZEN, 3 of 3 tasks in state D");
  ASSERT_EQ(effect->counters.size(), 1u);
  EXPECT_EQ(effect->counters[0].name, "processes_frozen");
  EXPECT_EQ(effect->counters[0].value, 2u);

  ASSERT_TRUE((*live)->revert().ok());
  EXPECT_EQ(read(v1_dir() / "freezer.state"), "THAWED\n");
  auto gone = (*live)->verify_gone();
  ASSERT_TRUE(gone.ok()) << gone.status().to_string();
}

TEST_F(ContainerPauseTest, V2FreezesThroughCgroupFreezeAndIsVerifiedByCgroupEvents) {
  make_pure_v2();
  auto pause = kind();
  auto live = pause.apply(spec(), context_);
  ASSERT_TRUE(live.ok()) << live.status().to_string();
  const fs::path cgroup = dir_ / "cgroup" / (kPath + 1);
  EXPECT_EQ(read(cgroup / "cgroup.freeze"), "1\n");
  EXPECT_EQ((*live)->undo_record()["cgroup_version"], "v2");
  EXPECT_EQ((*live)->verify_live().status().code(), StatusCode::kFailedPrecondition) << "the kernel says frozen 0";
  write(cgroup / "cgroup.events", "populated 1\nfrozen 1\n");
  auto effect = (*live)->verify_live();
  ASSERT_TRUE(effect.ok()) << effect.status().to_string();
  EXPECT_EQ(effect->evidence, (cgroup / "cgroup.events").string() + " reads frozen 1, 2 processes");
  ASSERT_TRUE((*live)->revert().ok());
  EXPECT_EQ(read(cgroup / "cgroup.freeze"), "0\n");
  EXPECT_EQ((*live)->verify_gone().status().code(), StatusCode::kFailedPrecondition) << "still frozen 1";
  write(cgroup / "cgroup.events", "populated 1\nfrozen 0\n");
  EXPECT_TRUE((*live)->verify_gone().ok());
}

TEST_F(ContainerPauseTest, AContainerThatStopsWhileFrozenRevertsAsGone) {
  auto pause = kind();
  auto live = pause.apply(spec(), context_);
  ASSERT_TRUE(live.ok()) << live.status().to_string();
  const nlohmann::json undo = (*live)->undo_record();
  fs::remove_all(v1_dir());  // the runtime removed the stopped container's cgroup
  EXPECT_TRUE((*live)->revert().ok());
  auto gone = (*live)->verify_gone();
  ASSERT_TRUE(gone.ok()) << gone.status().to_string();
  EXPECT_EQ(*gone, std::string("cgroup ") + kPath + " is gone (the container stopped)");
  EXPECT_TRUE(pause.recover(spec(), context_, undo).ok());
  EXPECT_TRUE(pause.verify_recovered(context_, undo).ok());
}

TEST_F(ContainerPauseTest, RecoveryThawsTheRecordedCgroupOrTheInitsWithoutARecord) {
  auto pause = kind();
  auto live = pause.apply(spec(), context_);
  ASSERT_TRUE(live.ok());
  const nlohmann::json undo = (*live)->undo_record();
  EXPECT_EQ(pause.verify_recovered(context_, undo).status().code(), StatusCode::kFailedPrecondition);
  ASSERT_TRUE(pause.recover(spec(), context_, undo).ok());
  EXPECT_EQ(read(v1_dir() / "freezer.state"), "THAWED\n");
  EXPECT_TRUE(pause.verify_recovered(context_, undo).ok());
  write(v1_dir() / "freezer.state", "FROZEN\n");  // the crash came before the undo record was journaled
  ASSERT_TRUE(pause.recover(spec(), context_, nullptr).ok());
  EXPECT_EQ(read(v1_dir() / "freezer.state"), "THAWED\n");
}

TEST_F(ContainerPauseTest, ACorruptUndoRecordCannotAimTheWriteOutsideTheCgroupTree) {
  auto pause = kind();
  const nlohmann::json undo = {{"cgroup_version", "v1"}, {"cgroup", "/../../../etc"}, {"file", "/etc/passwd"}};
  const Status recovered = pause.recover(spec(), context_, undo);
  EXPECT_EQ(recovered.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(recovered.message(), "cgroup path '/../../../etc' is not canonical");
}

TEST_F(ContainerPauseTest, RefusesTheAgentsOwnCgroupAndOneAlreadyFrozen) {
  auto pause = kind();
  write(dir_ / "proc/self/cgroup", std::string("6:freezer:") + kPath + "/agent\n");
  auto own = pause.apply(spec(), context_);
  EXPECT_EQ(own.status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(own.status().message(), std::string("container.pause: container podman nats-1 (3f2a9c1b7e44): refusing "
                                                "to freeze cgroup ") + kPath + ", which holds the agent itself");
  EXPECT_EQ(read(v1_dir() / "freezer.state"), "THAWED\n");
  write(dir_ / "proc/self/cgroup", "6:freezer:/agent\n");
  write(v1_dir() / "freezer.state", "FROZEN\n");  // podman pause
  auto already = pause.apply(spec(), context_);
  EXPECT_EQ(already.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(already.status().message().find("is already FROZEN"), std::string::npos) << already.status().message();
}

TEST_F(ContainerPauseTest, NeedsAContainerWhoseInitIsStillTheSame) {
  auto pause = kind();
  FaultContext host{"fcp2", "exp", 60s};
  EXPECT_EQ(pause.apply(spec(), host).status().code(), StatusCode::kFailedPrecondition);
  scope_.ref.set_pid_start_time(1);  // restarted: pid 300 is another process now
  auto restarted = pause.apply(spec(), context_);
  EXPECT_EQ(restarted.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(read(v1_dir() / "freezer.state"), "THAWED\n");
}

TEST(ContainerFaultKinds, OfferContainerPause) {
  auto kinds = make_container_fault_kinds();
  ASSERT_EQ(kinds.size(), 1u);
  EXPECT_EQ(kinds[0]->name(), "container.pause");
  EXPECT_TRUE(kinds[0]->acts_in_containers());
}

}  // namespace
}  // namespace chaos::agent
