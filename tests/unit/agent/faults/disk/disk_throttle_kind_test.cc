// disk.throttle without root: the spec's bounds with their messages, the
// text of the kernel's throttle files, and the kind against a fake cgroup
// tree, /proc and sysfs in a temp dir (the test plays the kernel: a write
// to a throttle file replaces its content, which is what a read of one
// rule shows).
#include "agent/faults/disk/disk_throttle_kind.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "tests/unit/agent/fake_process_table.h"

namespace chaos::agent::disk {
namespace {

namespace fs = std::filesystem;

constexpr char kContainerCgroup[] = "/libpod_parent/libpod-3f2a9c1b7e44";

v1::FaultSpec throttle_spec(std::uint64_t write_bps) {
  v1::FaultSpec spec;
  auto& throttle = *spec.mutable_disk_throttle();
  throttle.set_path("/data");
  throttle.set_write_bytes_per_second(write_bps);
  return spec;
}

std::string validation_message(const v1::FaultSpec& spec) { return throttle_limits_from_spec(spec).status().message(); }

TEST(DiskThrottleSpec, NamesTheFieldOfEveryBoundItBreaks) {
  v1::FaultSpec spec = throttle_spec(1 << 20);
  EXPECT_TRUE(throttle_limits_from_spec(spec).ok());
  spec.mutable_disk_throttle()->set_path("");
  EXPECT_EQ(validation_message(spec), "disk_throttle.path: required");
  spec.mutable_disk_throttle()->set_path("data");
  EXPECT_EQ(validation_message(spec), "disk_throttle.path: must be absolute");
  spec.mutable_disk_throttle()->set_path("/" + std::string(kMaxThrottlePathBytes, 'a'));
  EXPECT_EQ(validation_message(spec), "disk_throttle.path: at most 4096 bytes");
  spec = throttle_spec(0);
  EXPECT_EQ(validation_message(spec),
            "disk_throttle: at least one of read_bytes_per_second, write_bytes_per_second, read_iops, write_iops is "
            "required");
  spec = throttle_spec(100);
  EXPECT_EQ(validation_message(spec),
            "disk_throttle.write_bytes_per_second: must be 0 (not limited) or in 4096..1099511627776");
  spec = throttle_spec(0);
  spec.mutable_disk_throttle()->set_read_iops(kMaxThrottleIops + 1);
  EXPECT_EQ(validation_message(spec), "disk_throttle.read_iops: must be 0 (not limited) or in 1..10000000");
}

TEST(IoThrottleRules, FormatsAndParsesBlkioLines) {
  const DeviceNumber loop{7, 0};
  EXPECT_EQ(format_blkio_limit(loop, 1048576), "7:0 1048576\n");
  EXPECT_EQ(format_blkio_limit(loop, 0), "7:0 0\n");
  EXPECT_EQ(parse_blkio_limit("254:0 5000\n7:0 1048576\n", loop).value(), 1048576u);
  EXPECT_EQ(parse_blkio_limit("254:0 5000\n", loop).value(), 0u);
  EXPECT_EQ(parse_blkio_limit("", loop).value(), 0u);
  EXPECT_EQ(parse_blkio_limit("7:0 fast\n", loop).status().message(), "unexpected throttle line '7:0 fast'");
  EXPECT_EQ(parse_device_number("7:12").value(), (DeviceNumber{7, 12}));
  EXPECT_FALSE(parse_device_number("7").ok());
}

TEST(IoThrottleRules, FormatsAndParsesIoMaxLines) {
  const DeviceNumber loop{7, 0};
  ThrottleLimits limits;
  limits.write_bps = 1048576;
  limits.read_iops = 100;
  EXPECT_EQ(format_io_max(loop, limits), "7:0 rbps=max wbps=1048576 riops=100 wiops=max\n");
  EXPECT_EQ(format_io_max(loop, {}), "7:0 rbps=max wbps=max riops=max wiops=max\n");
  EXPECT_EQ(parse_io_max("8:0 rbps=1 wbps=max riops=max wiops=max\n7:0 rbps=max wbps=1048576 riops=100 wiops=max\n",
                         loop)
                .value(),
            limits);
  EXPECT_EQ(parse_io_max("8:0 rbps=1 wbps=max riops=max wiops=max\n", loop).value(), ThrottleLimits{});
  EXPECT_FALSE(parse_io_max("7:0 rbps=lots\n", loop).ok());
  EXPECT_EQ(describe_limits(limits), "write 1 MiB/s, 100 read IOPS");
}

TEST(IoThrottleRules, ReadsTheBytesThroughTheCgroup) {
  const DeviceNumber loop{7, 0};
  const auto v1 = parse_blkio_service_bytes("7:0 Read 4096\n7:0 Write 2097152\n7:0 Sync 0\nTotal 2101248\n", loop);
  EXPECT_EQ(v1.read, 4096u);
  EXPECT_EQ(v1.written, 2097152u);
  const auto v2 = parse_io_stat("8:0 rbytes=1 wbytes=2\n7:0 rbytes=10 wbytes=20 rios=1 wios=2\n", loop);
  EXPECT_EQ(v2.read, 10u);
  EXPECT_EQ(v2.written, 20u);
}

std::string read_file(const fs::path& file) {
  std::ifstream in(file);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

void write_file(const fs::path& file, const std::string& text) {
  fs::create_directories(file.parent_path());
  std::ofstream(file) << text;
}

class DiskThrottleKindTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) /
           ("dthrottle-" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()) + "-" +
            std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "croot/data");
    struct stat info {};
    ASSERT_EQ(::stat((dir_ / "croot/data").c_str(), &info), 0);
    device_ = {::major(info.st_dev), ::minor(info.st_dev)};
    // A whole disk in sysfs, whatever the temp dir really sits on.
    write_file(dir_ / "sys/devices/vda/uevent", "MAJOR=254\nDEVNAME=vda\n");
    fs::create_directories(dir_ / "sys/dev/block");
    fs::create_directory_symlink("../../devices/vda", dir_ / "sys/dev/block" / device_.text());
    // Hybrid, like the build machine: cgroup v1 blkio.
    for (const char* file : kBlkioThrottleFiles) {
      write_file(dir_ / "cgroup/blkio" / file, "");
      write_file(container_dir() / file, "");
    }
    write_file(container_dir() / blkio_file(1), "8:16 5000000\n");  // a rule on another disk
    write_file(container_dir() / blkio_file(0), device_.text() + " 2097152\n");  // the container's own read limit
    write_file(dir_ / "proc/300/cgroup", std::string("7:blkio:") + kContainerCgroup + "\n0::/\n");
    write_file(dir_ / "proc/self/cgroup", "7:blkio:/\n0::/\n");
    table_.add(300, "nats-server", "nats-server -js");
    table_.add(301, "nats-server", "nats-server -js");
    write_file(dir_ / "proc/301/cgroup", "7:blkio:/lab/node-2/chaos-old\n");

    scope_.ref.set_runtime("podman");
    scope_.ref.set_id("3f2a9c1b7e44aa");
    scope_.ref.set_name("nats-1");
    scope_.ref.set_pid(300);
    scope_.root_path = (dir_ / "croot").string();
    context_.fault_id = "f1";
    context_.container = &scope_;

    auto targeting = std::make_shared<ProcessTargeting>();
    targeting->table = &table_;
    DiskThrottleOptions options;
    options.cgroup_root = (dir_ / "cgroup").string();
    options.proc_root = (dir_ / "proc").string();
    options.sys_root = (dir_ / "sys").string();
    kind_ = std::make_unique<DiskThrottleKind>(targeting, options);
  }
  void TearDown() override { fs::remove_all(dir_); }

  static std::string blkio_file(int index) { return kBlkioThrottleFiles[index]; }
  fs::path container_dir() const { return dir_ / "cgroup/blkio" / (kContainerCgroup + 1); }

  fs::path dir_;
  DeviceNumber device_;
  testing::FakeProcessTable table_;
  ContainerScope scope_;
  FaultContext context_;
  std::unique_ptr<DiskThrottleKind> kind_;
};

TEST_F(DiskThrottleKindTest, ThrottlesAContainerCgroupAndRestoresItsOwnLimitsOnRevert) {
  EXPECT_FALSE(kind_->effect_survives_reboot());  // cgroup limits end with the kernel
  auto live = kind_->apply(throttle_spec(1 << 20), context_);
  ASSERT_TRUE(live.ok()) << live.status().message();
  EXPECT_EQ(kind_->backend(), "blkio");
  EXPECT_EQ(read_file(container_dir() / blkio_file(1)), device_.text() + " 1048576\n");
  // The limit the spec leaves at 0 keeps the container's own value.
  EXPECT_EQ(read_file(container_dir() / blkio_file(0)), device_.text() + " 2097152\n");
  EXPECT_EQ((*live)->detail(),
            "read 2 MiB/s, write 1 MiB/s on " + device_.text() + " for container podman nats-1 (3f2a9c1b7e44)");
  auto effect = (*live)->verify_live();
  ASSERT_TRUE(effect.ok()) << effect.status().message();
  EXPECT_FALSE(effect->impaired) << "no byte went through the throttle yet";

  ASSERT_TRUE((*live)->revert().ok());
  ASSERT_TRUE((*live)->revert().ok()) << "revert is idempotent";
  EXPECT_EQ(read_file(container_dir() / blkio_file(1)), device_.text() + " 0\n");
  EXPECT_EQ(read_file(container_dir() / blkio_file(0)), device_.text() + " 2097152\n");
  EXPECT_TRUE((*live)->verify_gone().ok());
}

TEST_F(DiskThrottleKindTest, RefusesASecondThrottleOfTheSameContainerWhileTheFirstLives) {
  auto first = kind_->apply(throttle_spec(1 << 20), context_);
  ASSERT_TRUE(first.ok()) << first.status().message();
  context_.fault_id = "f2";
  auto second = kind_->apply(throttle_spec(2 << 20), context_);
  EXPECT_EQ(second.status().code(), StatusCode::kFailedPrecondition);
  ASSERT_TRUE((*first)->revert().ok());
  EXPECT_TRUE(kind_->apply(throttle_spec(2 << 20), context_).ok());
}

TEST_F(DiskThrottleKindTest, RecoveryFromTheUndoRecordRestoresThePreviousLimits) {
  auto live = kind_->apply(throttle_spec(1 << 20), context_);
  ASSERT_TRUE(live.ok()) << live.status().message();
  const nlohmann::json undo = (*live)->undo_record();
  EXPECT_EQ(undo.at("device"), device_.text());
  ASSERT_TRUE(kind_->recover(throttle_spec(1 << 20), context_, undo).ok());
  EXPECT_EQ(read_file(container_dir() / blkio_file(1)), device_.text() + " 0\n");
  EXPECT_TRUE(kind_->recover(throttle_spec(1 << 20), context_, undo).ok()) << "recovery is idempotent";
  EXPECT_TRUE(kind_->verify_recovered(context_, undo).ok());
}

TEST_F(DiskThrottleKindTest, RecoveryWithoutARecordClearsOnlyTheSpecsOwnLimits) {
  write_file(container_dir() / blkio_file(1), device_.text() + " 1048576\n");
  ASSERT_TRUE(kind_->recover(throttle_spec(1 << 20), context_, nullptr).ok());
  EXPECT_EQ(read_file(container_dir() / blkio_file(1)), device_.text() + " 0\n");
  EXPECT_EQ(read_file(container_dir() / blkio_file(0)), device_.text() + " 2097152\n");
  // A limit the spec did not set is someone else's: left alone.
  write_file(container_dir() / blkio_file(1), device_.text() + " 777777\n");
  ASSERT_TRUE(kind_->recover(throttle_spec(1 << 20), context_, nullptr).ok());
  EXPECT_EQ(read_file(container_dir() / blkio_file(1)), device_.text() + " 777777\n");
}

// A link the container made resolves inside its root, as the container sees
// it: an absolute one cannot name a host path (the host's /etc exists, the
// container root has none).
TEST_F(DiskThrottleKindTest, AContainersAbsoluteLinkResolvesInsideItsRoot) {
  fs::create_directory_symlink("/etc", dir_ / "croot/escape");
  v1::FaultSpec spec = throttle_spec(1 << 20);
  spec.mutable_disk_throttle()->set_path("/escape");
  auto escaped = kind_->apply(spec, context_);
  EXPECT_EQ(escaped.status().code(), StatusCode::kNotFound) << escaped.status().message();
  EXPECT_NE(escaped.status().message().find("croot/escape"), std::string::npos) << escaped.status().message();
  // Inside the root the same link works: /etc in the container.
  fs::create_directories(dir_ / "croot/etc");
  auto inside = kind_->apply(spec, context_);
  ASSERT_TRUE(inside.ok()) << inside.status().message();
  EXPECT_TRUE((*inside)->revert().ok());
}

TEST_F(DiskThrottleKindTest, MapsAPartitionToItsWholeDisk) {
  fs::remove(dir_ / "sys/dev/block" / device_.text());
  write_file(dir_ / "sys/devices/sda/dev", "8:0\n");
  write_file(dir_ / "sys/devices/sda/uevent", "DEVNAME=sda\n");
  write_file(dir_ / "sys/devices/sda/sda1/partition", "1\n");
  fs::create_directory_symlink("../../devices/sda/sda1", dir_ / "sys/dev/block" / device_.text());
  auto device = block_device_of((dir_ / "croot/data").string(), (dir_ / "sys").string());
  ASSERT_TRUE(device.ok()) << device.status().message();
  EXPECT_EQ(device->filesystem, device_);
  EXPECT_EQ(device->throttled, (DeviceNumber{8, 0}));
  EXPECT_EQ(device->name, "sda");
}

TEST_F(DiskThrottleKindTest, RefusesPathsWithoutABlockDeviceAndUnclearTargets) {
  fs::remove(dir_ / "sys/dev/block" / device_.text());
  auto on_tmpfs = kind_->apply(throttle_spec(1 << 20), context_);
  EXPECT_EQ(on_tmpfs.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(on_tmpfs.status().message().find("which is not a block device"), std::string::npos)
      << on_tmpfs.status().message();
  fs::create_directory_symlink("../../devices/vda", dir_ / "sys/dev/block" / device_.text());

  FaultContext host;
  host.fault_id = "f3";
  v1::FaultSpec spec = throttle_spec(1 << 20);
  spec.mutable_disk_throttle()->set_path((dir_ / "croot/data").string());
  EXPECT_EQ(kind_->apply(spec, host).status().message(),
            "disk_throttle.target: required for a fault on the host (or give FaultSpec.target)");
  spec.mutable_disk_throttle()->mutable_target()->set_name("nats-server");
  auto two = kind_->apply(spec, host);
  EXPECT_EQ(two.status().message(),
            "disk_throttle.target: name 'nats-server' matches 2 processes (300,301); a throttle moves exactly "
            "one: narrow it with pid or count = 1");
  spec.mutable_disk_throttle()->mutable_target()->set_pid(301);
  auto again = kind_->apply(spec, host);
  EXPECT_EQ(again.status().message(),
            "disk_throttle.target: pid 301 is in cgroup /lab/node-2/chaos-old already (another disk.throttle)");
}

}  // namespace
}  // namespace chaos::agent::disk
