// disk.fill through the real agent on a 64 MiB tmpfs of the test's own:
// the free space statvfs reports drops to the target and comes back on
// revert; an agent SIGKILLed mid-fault leaves its file, and the restarted
// agent deletes it from the journal; the default policy refuses '/'.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "lab/testbed/agent_test_bed.h"
#include "tests/integration/agent/tmpfs_mount.h"

namespace chaos::agent::integration {
namespace {

using namespace std::chrono_literals;

constexpr std::uint64_t kDiskFillTestMiB = 1024 * 1024;
constexpr std::uint64_t kDiskFillTestSize = 64 * kDiskFillTestMiB;
constexpr std::uint64_t kDiskFillTestLeave = 8 * kDiskFillTestMiB;

v1::FaultSpec disk_fill_leave_bytes(const std::string& path, std::uint64_t bytes) {
  v1::FaultSpec spec;
  spec.mutable_disk_fill()->set_path(path);
  spec.mutable_disk_fill()->set_leave_bytes(bytes);
  return spec;
}

class DiskFillTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root (a tmpfs, network namespaces)";
    temp_ = std::make_unique<TempDir>("cag-disk-fill-" + std::to_string(::getpid()));
    tmpfs_ = std::make_unique<TmpfsMount>(temp_->path() / "fs", kDiskFillTestSize);
    ASSERT_TRUE(tmpfs_->mounted());
    bed_ = std::make_unique<AgentTestBed>();
    ASSERT_EQ(bed_->error(), "");
  }
  void TearDown() override {
    bed_.reset();
    tmpfs_.reset();
    temp_.reset();
  }

  std::unique_ptr<NamespacedAgent> agent(const std::string& name) {
    return std::make_unique<NamespacedAgent>(bed_->a(), (temp_->path() / "state").string(),
                                             (temp_->path() / (name + ".log")).string());
  }

  std::string fill_file(const std::string& fault_id) const {
    return (tmpfs_->path() / (".chaos-fill-" + fault_id)).string();
  }

  std::unique_ptr<TempDir> temp_;
  std::unique_ptr<TmpfsMount> tmpfs_;
  std::unique_ptr<AgentTestBed> bed_;
};

TEST_F(DiskFillTest, FillsToTheTargetAndRevertFreesIt) {
  const std::uint64_t before = tmpfs_->free_bytes();
  ASSERT_GT(before, kDiskFillTestSize - kDiskFillTestMiB);
  auto running = agent("agent");
  ASSERT_TRUE(running->start()) << running->log();
  v1::InjectResponse injected;
  const auto status =
      running->inject(inject_request(disk_fill_leave_bytes(tmpfs_->path().string(), kDiskFillTestLeave)), &injected);
  ASSERT_TRUE(status.ok()) << status.error_message() << "\n" << running->log();
  // Within a block of the target: tmpfs allocates whole pages.
  const std::uint64_t during = tmpfs_->free_bytes();
  EXPECT_LE(during, kDiskFillTestLeave);
  EXPECT_GE(during, kDiskFillTestLeave - kDiskFillTestMiB);
  struct stat info {};
  ASSERT_EQ(::stat(fill_file(injected.fault().id()).c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);
  EXPECT_EQ(injected.fault().backend(), "fallocate");
  EXPECT_NE(injected.fault().detail().find("filled " + tmpfs_->path().string() + " to "), std::string::npos)
      << injected.fault().detail();
  EXPECT_EQ(injected.fault().effect(), v1::EFFECT_STATE_VERIFIED) << injected.fault().evidence();

  ASSERT_TRUE(running->revert(injected.fault().id()).ok()) << running->log();
  EXPECT_EQ(tmpfs_->free_bytes(), before);
  EXPECT_TRUE(std::filesystem::is_empty(tmpfs_->path()));
  EXPECT_EQ(running->stop(), 0) << running->log();
}

TEST_F(DiskFillTest, RestartAfterSigkillDeletesTheFile) {
  const std::uint64_t before = tmpfs_->free_bytes();
  std::string id;
  {
    auto crashing = agent("crashing");
    ASSERT_TRUE(crashing->start()) << crashing->log();
    v1::InjectResponse injected;
    ASSERT_TRUE(
        crashing->inject(inject_request(disk_fill_leave_bytes(tmpfs_->path().string(), kDiskFillTestLeave)), &injected)
            .ok())
        << crashing->log();
    id = injected.fault().id();
    crashing->process().kill_hard();
  }
  ASSERT_TRUE(std::filesystem::exists(fill_file(id))) << "the SIGKILL should leave the file behind";
  EXPECT_LE(tmpfs_->free_bytes(), kDiskFillTestLeave);
  auto restarted = agent("restarted");
  ASSERT_TRUE(restarted->start()) << restarted->log();  // journal recovery is done by then
  EXPECT_FALSE(std::filesystem::exists(fill_file(id))) << restarted->log();
  EXPECT_EQ(tmpfs_->free_bytes(), before);
  EXPECT_EQ(restarted->stop(), 0) << restarted->log();
}

TEST_F(DiskFillTest, DefaultPolicyRefusesTheRootFilesystem) {
  auto running = agent("agent");
  ASSERT_TRUE(running->start()) << running->log();
  // The temp dir is on '/' here. Leaving 99% could not be filled anyway:
  // even a wrong answer writes nothing to the machine's disk.
  v1::FaultSpec spec;
  spec.mutable_disk_fill()->set_path(temp_->path().string());
  spec.mutable_disk_fill()->set_leave_percent(99);
  v1::InjectResponse injected;
  const auto status = running->inject(inject_request(spec), &injected);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED) << status.error_message();
  EXPECT_NE(status.error_message().find("mounted at /, which [policy] disk_fill_protected refuses"), std::string::npos)
      << status.error_message();
  EXPECT_EQ(running->stop(), 0) << running->log();
}

TEST_F(DiskFillTest, FileDeletedBySomeoneElseEndsTheFault) {
  auto running = agent("agent");
  ASSERT_TRUE(running->start()) << running->log();
  v1::InjectResponse injected;
  ASSERT_TRUE(
      running->inject(inject_request(disk_fill_leave_bytes(tmpfs_->path().string(), kDiskFillTestLeave)), &injected)
          .ok())
      << running->log();
  ASSERT_EQ(::unlink(fill_file(injected.fault().id()).c_str()), 0);
  v1::Fault ended;
  ASSERT_TRUE(eventually(
      [&] {
        v1::ListResponse listed;
        if (!running->list(&listed, /*include_ended=*/true).ok()) return false;
        for (const auto& fault : listed.faults()) {
          if (fault.id() == injected.fault().id() && fault.state() == v1::FAULT_STATE_REVERTED) ended = fault;
        }
        return !ended.id().empty();
      },
      20s))
      << running->log();
  EXPECT_EQ(ended.revert_reason(), "file_deleted");
  EXPECT_EQ(running->stop(), 0) << running->log();
}

}  // namespace
}  // namespace chaos::agent::integration
