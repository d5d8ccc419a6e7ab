#include "agent/faults/disk/disk_fill_kind.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <filesystem>
#include <fstream>

#include "agent/faults/disk/disk_fill_file.h"
#include "agent/policy.h"
#include "common/unique_fd.h"
#include "tests/support/temp_dir.h"

namespace chaos::agent::disk {
namespace {

namespace fs = std::filesystem;

v1::FaultSpec fill_spec(const std::string& path, std::optional<std::uint64_t> bytes,
                        std::optional<double> percent = std::nullopt) {
  v1::FaultSpec spec;
  auto& fill = *spec.mutable_disk_fill();
  fill.set_path(path);
  if (bytes) fill.set_leave_bytes(*bytes);
  if (percent) fill.set_leave_percent(*percent);
  return spec;
}

std::string validation_error(const v1::FaultSpec& spec) { return DiskFillKind().validate(spec).message(); }

std::string scratch_dir(const std::string& name) {
  const std::string dir = test_support::process_scratch_dir() + "/disk-fill-" + name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

// A mount table in which `mount_point` is mounted from `dir`'s device.
MountinfoReader mounted_at(const std::string& dir, const std::string& mount_point,
                           const std::string& fs_type = "ext4") {
  struct stat info {};
  EXPECT_EQ(::stat(dir.c_str(), &info), 0);
  const std::string line = "40 1 " + std::to_string(major(info.st_dev)) + ":" + std::to_string(minor(info.st_dev)) +
                           " / " + mount_point + " rw - " + fs_type + " /dev/x rw\n";
  return [line]() -> StatusOr<std::string> { return line; };
}

TEST(DiskFillKindTest, ValidationNamesTheField) {
  EXPECT_TRUE(DiskFillKind().validate(fill_spec("/data", 10)).ok());
  EXPECT_TRUE(DiskFillKind().validate(fill_spec("/data", std::nullopt, 5)).ok());
  EXPECT_TRUE(DiskFillKind().validate(fill_spec("/data", 0)).ok());  // a full disk
  EXPECT_EQ(validation_error(v1::FaultSpec()), "disk_fill: missing");
  EXPECT_EQ(validation_error(fill_spec("", 1)), "disk_fill.path: required");
  EXPECT_EQ(validation_error(fill_spec("data", 1)), "disk_fill.path: must be absolute, not 'data'");
  EXPECT_EQ(validation_error(fill_spec("/" + std::string(4096, 'a'), 1)), "disk_fill.path: at most 4096 bytes");
  EXPECT_EQ(validation_error(fill_spec("/data", std::nullopt)),
            "disk_fill: one of leave_bytes or leave_percent is required");
  EXPECT_EQ(validation_error(fill_spec("/data", std::nullopt, 100)), "disk_fill.leave_percent: must be in [0, 100)");
  EXPECT_EQ(validation_error(fill_spec("/data", std::nullopt, -1)), "disk_fill.leave_percent: must be in [0, 100)");
  EXPECT_EQ(validation_error(fill_spec("/data", (1ULL << 60) + 1)), "disk_fill.leave_bytes: at most 1 EiB");
}

TEST(DiskFillKindTest, TargetIsBytesOrAPercentOfTheFilesystem) {
  DiskFillPlan plan;
  plan.leave_bytes = 8 << 20;
  EXPECT_EQ(plan.target_bytes(64 << 20), 8u << 20);
  plan.leave_bytes.reset();
  plan.leave_percent = 12.5;
  EXPECT_EQ(plan.target_bytes(64 << 20), 8u << 20);
}

TEST(DiskFillKindTest, FillsTheDirectoryOrTheFilesParent) {
  const std::string dir = scratch_dir("dir");
  { std::ofstream(dir + "/file") << "x"; }
  EXPECT_EQ(*disk_fill_dir(dir), dir);
  EXPECT_EQ(*disk_fill_dir(dir + "/"), dir);
  EXPECT_EQ(*disk_fill_dir(dir + "/file"), dir);
  EXPECT_EQ(disk_fill_dir(dir + "/none").status().code(), StatusCode::kNotFound);
  fs::create_directory(dir + "/real");
  fs::create_directory_symlink(dir + "/real", dir + "/link");
  EXPECT_EQ(*disk_fill_dir(dir + "/link"), dir + "/real");
  EXPECT_EQ(disk_fill_file_path(dir, "f1"), dir + "/.chaos-fill-f1");
  EXPECT_EQ(disk_fill_file_path("/", "f1"), "/.chaos-fill-f1");
}

TEST(DiskFillKindTest, DefaultPolicyRefusesTheRootFilesystem) {
  const Policy policy;  // disk_fill_protected = ["/"]
  const Status status = DiskFillKind().check_policy_limits(policy, fill_spec("/", 1 << 20));
  EXPECT_EQ(status.code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(status.message(),
            "policy: disk_fill.path / is on the filesystem mounted at /, which [policy] disk_fill_protected refuses");
}

TEST(DiskFillKindTest, PolicyComparesTheMountPointOfThePath) {
  const std::string dir = scratch_dir("policy");
  Policy policy;
  policy.disk_fill_protected = {"/", "/srv/data"};
  DiskFillKind on_protected(DiskFillSystem{mounted_at(dir, "/srv/data"), true});
  // The fake table says the temp dir's device is mounted at /srv/data... but
  // the path is not under it: the fallback by path finds nothing either.
  EXPECT_EQ(on_protected.check_policy_limits(policy, fill_spec(dir, 1)).code(), StatusCode::kNotFound);
  DiskFillKind own_mount(DiskFillSystem{mounted_at(dir, dir), true});
  EXPECT_TRUE(own_mount.check_policy_limits(policy, fill_spec(dir, 1)).ok());
  policy.disk_fill_protected.push_back(dir);
  const Status refused = own_mount.check_policy_limits(policy, fill_spec(dir + "/", 1));
  EXPECT_EQ(refused.code(), StatusCode::kPermissionDenied);
  EXPECT_NE(refused.message().find("mounted at " + dir + ", which [policy] disk_fill_protected refuses"),
            std::string::npos)
      << refused.message();
  policy.disk_fill_protected.clear();  // [] allows every filesystem
  EXPECT_TRUE(DiskFillKind().check_policy_limits(policy, fill_spec("/", 1)).ok());
}

// /dev/shm and /run are half the node's RAM by default, ramfs all of it; the
// pages a fill takes there cannot be reclaimed.
TEST(DiskFillKindTest, TheNodesMemoryFilesystemsAreRefusedATmpfsOfItsOwnIsNot) {
  for (const auto& [mount_point, fs_type] : {std::pair{"/dev/shm", "tmpfs"},
                                             {"/run", "tmpfs"},
                                             {"/run/user/0", "tmpfs"},
                                             {"/dev", "devtmpfs"},
                                             {"/mnt/r", "ramfs"}}) {
    const Status status = refuse_node_memory_filesystem("/x", MountEntry{0, 0, mount_point, fs_type, "none"});
    EXPECT_EQ(status.code(), StatusCode::kPermissionDenied) << mount_point;
    EXPECT_EQ(status.message(), "disk_fill.path /x is on the " + std::string(fs_type) + " mounted at " + mount_point +
                                    ": memory of the node, not a disk (stress.memory is the fault for memory)");
  }
  EXPECT_TRUE(refuse_node_memory_filesystem("/x", MountEntry{0, 0, "/mnt/scratch", "tmpfs", "none"}).ok());
  EXPECT_TRUE(refuse_node_memory_filesystem("/x", MountEntry{0, 0, "/run/media", "ext4", "/dev/sdb1"}).ok());
  // Through the kind, whatever disk_fill_protected says.
  const std::string dir = scratch_dir("memory");
  Policy no_protected;
  no_protected.disk_fill_protected.clear();
  DiskFillKind on_ramfs(DiskFillSystem{mounted_at(dir, dir, "ramfs"), true});
  EXPECT_EQ(on_ramfs.check_policy_limits(no_protected, fill_spec(dir, 0)).code(), StatusCode::kPermissionDenied);
  DiskFillKind on_tmpfs(DiskFillSystem{mounted_at(dir, dir, "tmpfs"), true});
  EXPECT_TRUE(on_tmpfs.check_policy_limits(no_protected, fill_spec(dir, 0)).ok());
}

TEST(DiskFillKindTest, WriteFallbackWritesZeroedChunksUpToTheSize) {
  const std::string file = scratch_dir("write") + "/fill";
  UniqueFd fd(::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600));
  ASSERT_TRUE(fd.valid());
  const std::uint64_t bytes = kDiskFillChunkBytes * 2 + 4096;
  auto filled = fill_open_file(fd.get(), bytes, /*try_fallocate=*/false, file);
  ASSERT_TRUE(filled.ok()) << filled.status().to_string();
  EXPECT_EQ(filled->method, DiskFillMethod::kWrite);
  EXPECT_EQ(filled->bytes, bytes);
  EXPECT_EQ(fs::file_size(file), bytes);
}

TEST(DiskFillKindTest, RecoverDeletesOnlyThisFaultsFile) {
  const std::string dir = scratch_dir("recover");
  const std::string file = dir + "/.chaos-fill-f7";
  const std::string decoy = dir + "/precious";
  { std::ofstream(file) << "x"; }
  { std::ofstream(decoy) << "x"; }
  DiskFillKind kind;
  EXPECT_TRUE(kind.effect_survives_reboot());  // the file does: its records are flushed
  const auto spec = fill_spec(dir, 1);
  const FaultContext context{"f7", "", Duration{0}, nullptr, &spec};
  // A journal naming another file is refused, not obeyed.
  EXPECT_EQ(kind.recover(spec, context, {{"file", decoy}}).code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(fs::exists(decoy));
  EXPECT_EQ(kind.verify_recovered(context, {{"file", file}}).status().code(), StatusCode::kFailedPrecondition);
  ASSERT_TRUE(kind.recover(spec, context, {{"file", file}}).ok());
  EXPECT_FALSE(fs::exists(file));
  EXPECT_TRUE(kind.recover(spec, context, {{"file", file}}).ok());  // idempotent
  EXPECT_EQ(*kind.verify_recovered(context, {{"file", file}}), file + " absent");
  // Crash mid-apply (no undo record): the spec's path names the file.
  { std::ofstream(file) << "x"; }
  ASSERT_TRUE(kind.recover(spec, context, nlohmann::json()).ok());
  EXPECT_FALSE(fs::exists(file));
  EXPECT_TRUE(fs::exists(decoy));
}

TEST(DiskFillKindTest, RecoverByIdNeedsThePathAndNeverWalks) {
  DiskFillKind kind;
  EXPECT_EQ(kind.recover_by_id(FaultContext{"f8", "", Duration{0}}).code(), StatusCode::kUnimplemented);
  const std::string dir = scratch_dir("by-id");
  { std::ofstream(dir + "/.chaos-fill-f8") << "x"; }
  const auto spec = fill_spec(dir, 1);
  EXPECT_TRUE(kind.recover_by_id(FaultContext{"f8", "", Duration{0}, nullptr, &spec}).ok());
  EXPECT_FALSE(fs::exists(dir + "/.chaos-fill-f8"));
  // The path is gone: so is the file, nothing to do.
  EXPECT_TRUE(kind.recover(fill_spec(dir + "/gone/x", 1), FaultContext{"f8", "", Duration{0}}, nlohmann::json()).ok());
}

TEST(DiskFillKindTest, ApplyRefusesWhenLessIsLeftThanAsked) {
  const std::string dir = scratch_dir("already");
  DiskFillKind kind;
  // Leaving 1 EiB free: every filesystem here has less already, nothing is written.
  auto live = kind.apply(fill_spec(dir, 1ULL << 60), FaultContext{"f9", "", Duration{0}});
  EXPECT_EQ(live.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(live.status().message().find("nothing to fill"), std::string::npos) << live.status().message();
  EXPECT_TRUE(fs::is_empty(dir));
}

TEST(DiskFillKindTest, BytesForPeople) {
  EXPECT_EQ(disk_fill_bytes_text(512), "512 B");
  EXPECT_EQ(disk_fill_bytes_text(10 << 20), "10 MiB");
  EXPECT_EQ(disk_fill_bytes_text(1536), "1.5 KiB");
}

}  // namespace
}  // namespace chaos::agent::disk
