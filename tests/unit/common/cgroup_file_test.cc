#include "common/cgroup_file.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace chaos {
namespace {

TEST(CgroupPath, AcceptsAbsolutePathsWithoutDotComponents) {
  EXPECT_TRUE(check_cgroup_path("/").ok());
  EXPECT_TRUE(check_cgroup_path("/system.slice/nats.service").ok());
  EXPECT_TRUE(check_cgroup_path("/a..b/.hidden/x.").ok()) << "dots inside a name are fine";
}

TEST(CgroupPath, RefusesWhatCouldLeaveTheHierarchy) {
  EXPECT_EQ(check_cgroup_path("").message(), "cgroup path '' is not absolute");
  EXPECT_EQ(check_cgroup_path("system.slice").message(), "cgroup path 'system.slice' is not absolute");
  EXPECT_EQ(check_cgroup_path("/a/../../etc").message(), "cgroup path '/a/../../etc' is not canonical");
  EXPECT_EQ(check_cgroup_path("/a/./b").code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(check_cgroup_path("/a/..").code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(check_cgroup_path(std::string("/a\0b", 4)).message(), "cgroup path holds a NUL byte");
  EXPECT_EQ(check_cgroup_path("/" + std::string(kMaxCgroupPathBytes, 'a')).message(), "cgroup path is too long");
}

class CgroupFileWrite : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = ::testing::TempDir() + "/cgroup-file-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  static std::string contents(const std::string& path) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }
  std::string dir_;
};

TEST_F(CgroupFileWrite, WritesTheValueInOneWriteReplacingTheOldOne) {
  const std::string file = dir_ + "/cgroup.procs";
  std::ofstream(file) << "old contents that are longer\n";
  ASSERT_TRUE(write_cgroup_file(file, "4242\n").ok());
  EXPECT_EQ(contents(file), "4242\n");
}

TEST_F(CgroupFileWrite, AGoneCgroupIsNotFound) {
  const Status status = write_cgroup_file(dir_ + "/removed/cgroup.procs", "1\n");
  EXPECT_EQ(status.code(), StatusCode::kNotFound) << status.message();
  EXPECT_NE(status.message().find(dir_ + "/removed/cgroup.procs"), std::string::npos) << status.message();
}

TEST_F(CgroupFileWrite, ASymlinkIsNotFollowed) {
  const std::string target = dir_ + "/target";
  std::ofstream(target) << "untouched\n";
  std::filesystem::create_symlink(target, dir_ + "/link");
  const Status status = write_cgroup_file(dir_ + "/link", "FROZEN\n");
  EXPECT_EQ(status.code(), StatusCode::kPermissionDenied) << status.message();
  EXPECT_EQ(contents(target), "untouched\n");
}
}  // namespace
}  // namespace chaos
