// disk.throttle by the real chaos-agent on a real loop device: an ext4
// image of 64 MiB the test makes, mounts, and removes again. A writer
// process moved into the fault's blkio cgroup writes 4 MiB with O_DIRECT
// at 1 MiB/s while an unthrottled writer on the same filesystem is not
// slowed; revert (and a restarted agent after kill -9) puts the writer back
// in its cgroup and removes the fault's cgroup. Root, cgroup v1 blkio or
// v2 io.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "lab/testbed/agent_harness.h"
#include "tests/integration/agent/loop_mount.h"

namespace chaos::agent::integration {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

constexpr char kBlkioRoot[] = "/sys/fs/cgroup/blkio";

std::string file_text(const fs::path& file) {
  std::ifstream in(file);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// The blkio cgroup /proc/PID/cgroup names for `pid`.
std::string blkio_cgroup_of(pid_t pid) {
  std::istringstream lines(file_text("/proc/" + std::to_string(pid) + "/cgroup"));
  std::string line;
  while (std::getline(lines, line)) {
    const auto at = line.find(":blkio:");
    if (at != std::string::npos) return line.substr(at + 7);
  }
  return "";
}

// Waits for `<dir>/go`, writes 4 MiB with O_DIRECT to `file`, then marks
// `<dir>/done` and stays alive (an exited target would end the fault).
class Writer {
 public:
  Writer(const fs::path& dir, const fs::path& file) : dir_(dir) {
    fs::create_directories(dir_);
    pid_ = spawn({"/bin/bash", "-c",
                  "while [ ! -e '" + (dir / "go").string() + "' ]; do sleep 0.02; done; /usr/bin/dd if=/dev/zero of='" +
                      file.string() + "' bs=64k count=64 oflag=direct status=none; touch '" +
                      (dir / "done").string() + "'; exec sleep 300"});
  }
  ~Writer() {
    if (pid_ <= 0) return;
    // A dd still running (a failed test) would keep the mount busy.
    std::istringstream children(file_text("/proc/" + std::to_string(pid_) + "/task/" + std::to_string(pid_) +
                                          "/children"));
    pid_t child = 0;
    while (children >> child) safe_kill(child, SIGKILL);
    safe_kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;

  pid_t pid() const { return pid_; }
  bool done() const { return fs::exists(dir_ / "done"); }
  void go() const { std::ofstream(dir_ / "go").close(); }

 private:
  fs::path dir_;
  pid_t pid_ = -1;
};

class DiskThrottle : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root (loop devices, mounts, cgroups)";
    if (!fs::exists(fs::path(kBlkioRoot) / "blkio.throttle.write_bps_device")) {
      GTEST_SKIP() << "no cgroup v1 blkio throttle on this machine";
    }
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() / ("cag-dthr-" + std::string(info->name()) + "-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    disk_ = std::make_unique<LoopMount>(dir_ / "disk", 64 << 20);
    ASSERT_EQ(disk_->error(), "");
    device_ = disk_->device();
    agent_ = std::make_unique<AgentProcess>((dir_ / "state").string(), (dir_ / "agent.log").string());
    ASSERT_TRUE(agent_->start()) << "agent did not start:\n" << agent_->log();
  }

  void TearDown() override {
    if (HasFailure() && agent_) std::cerr << "--- agent log:\n" << agent_->log();
    agent_.reset();
    writers_.clear();  // killed, so nothing holds the mount
    // A fault cgroup a failed test left behind.
    if (!fault_id_.empty()) ::rmdir((std::string(kBlkioRoot) + "/chaos-" + fault_id_).c_str());
    disk_.reset();
    fs::remove_all(dir_);
  }

  Writer& writer(const std::string& name) {
    writers_.push_back(std::make_unique<Writer>(dir_ / name, disk_->path() / name));
    return *writers_.back();
  }

  v1::InjectResponse throttle(pid_t pid) {
    v1::InjectRequest request;
    request.set_experiment_id("cag-exp");
    request.mutable_duration()->set_seconds(120);
    auto& spec = *request.mutable_spec()->mutable_disk_throttle();
    spec.set_path((disk_->path()).string());
    spec.set_write_bytes_per_second(1 << 20);
    spec.mutable_target()->set_pid(pid);
    v1::InjectResponse response;
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + 10s);
    const grpc::Status status = agent_->stub().Inject(&context, request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    fault_id_ = response.fault().id();
    return response;
  }

  fs::path fault_cgroup() const { return fs::path(kBlkioRoot) / ("chaos-" + fault_id_); }

  fs::path dir_;
  std::unique_ptr<LoopMount> disk_;
  std::string device_;
  std::string fault_id_;
  std::unique_ptr<AgentProcess> agent_;
  std::vector<std::unique_ptr<Writer>> writers_;
};

TEST_F(DiskThrottle, SlowsOnlyTheTargetsDirectWritesAndRevertPutsItBack) {
  Writer& slow = writer("slow");
  Writer& fast = writer("fast");
  const std::string original = blkio_cgroup_of(slow.pid());
  const auto response = throttle(slow.pid());
  ASSERT_FALSE(fault_id_.empty());
  EXPECT_EQ(response.fault().backend(), "blkio");
  EXPECT_EQ(response.fault().detail(),
            "write 1 MiB/s on " + device_ + " for pid " + std::to_string(slow.pid()) + " (bash)");
  EXPECT_EQ(blkio_cgroup_of(slow.pid()), (original == "/" ? "" : original) + "/chaos-" + fault_id_);
  EXPECT_EQ(blkio_cgroup_of(fast.pid()), original);
  EXPECT_NE(file_text(fault_cgroup() / "blkio.throttle.write_bps_device").find(device_ + " 1048576"),
            std::string::npos);

  const auto start = std::chrono::steady_clock::now();
  slow.go();
  fast.go();
  ASSERT_TRUE(eventually([&] { return fast.done(); }, 60s));
  const auto fast_took = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(eventually([&] { return slow.done(); }, 60s));
  const auto slow_took = std::chrono::steady_clock::now() - start;
  // 4 MiB at 1 MiB/s: about 3 s or more (the kernel lets a first slice
  // through at once); the same writes unthrottled take a small fraction.
  EXPECT_GE(slow_took, 2s);
  EXPECT_LT(fast_took * 2, slow_took);

  v1::RevertRequest revert;
  revert.set_fault_id(fault_id_);
  v1::RevertResponse reverted;
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + 10s);
  ASSERT_TRUE(agent_->stub().Revert(&context, revert, &reverted).ok());
  EXPECT_EQ(blkio_cgroup_of(slow.pid()), original);
  EXPECT_FALSE(fs::exists(fault_cgroup()));
}

TEST_F(DiskThrottle, Kill9MidThrottleThenRestartRemovesTheThrottle) {
  Writer& slow = writer("slow");
  const std::string original = blkio_cgroup_of(slow.pid());
  throttle(slow.pid());
  ASSERT_FALSE(fault_id_.empty());
  agent_->kill_hard();
  EXPECT_TRUE(fs::exists(fault_cgroup())) << "nothing reverts a SIGKILLed agent's faults but the next agent";
  EXPECT_NE(blkio_cgroup_of(slow.pid()), original);

  agent_ = std::make_unique<AgentProcess>((dir_ / "state").string(), (dir_ / "agent2.log").string());
  ASSERT_TRUE(agent_->start()) << agent_->log();
  EXPECT_FALSE(fs::exists(fault_cgroup())) << agent_->log();
  EXPECT_EQ(blkio_cgroup_of(slow.pid()), original);
}

TEST_F(DiskThrottle, RefusesAPathWithoutABlockDeviceAndASpecWithoutALimit) {
  Writer& target = writer("target");
  v1::InjectRequest request;
  request.mutable_duration()->set_seconds(10);
  auto& spec = *request.mutable_spec()->mutable_disk_throttle();
  spec.set_path("/dev/shm");  // tmpfs
  spec.set_write_bytes_per_second(1 << 20);
  spec.mutable_target()->set_pid(target.pid());
  v1::InjectResponse response;
  {
    grpc::ClientContext context;
    const auto status = agent_->stub().Inject(&context, request, &response);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << status.error_message();
  }
  spec.set_path((disk_->path()).string());
  spec.set_write_bytes_per_second(0);
  {
    grpc::ClientContext context;
    const auto status = agent_->stub().Inject(&context, request, &response);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();
  }
  EXPECT_EQ(blkio_cgroup_of(target.pid()), blkio_cgroup_of(::getpid()));
}

}  // namespace
}  // namespace chaos::agent::integration
