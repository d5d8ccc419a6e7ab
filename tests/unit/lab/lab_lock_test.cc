// The lab lock: up, down and probe never run at the same time on one lab;
// the second is refused at once with the holder's pid, and the lock file
// stays (removing it could hand the lock to two verbs at once).
#include "lab/lab_lock.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <optional>

#include <CLI/CLI.hpp>

#include "lab/lab_command.h"

namespace chaos::lab {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// gtest's temporary directory without its trailing '/'.
std::string lock_test_dir() {
  std::string dir = ::testing::TempDir();
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  return dir;
}

LabLayout lock_test_layout(const std::string& name) {
  LabParams params;
  params.state_dir = lock_test_dir() + "/" + name;
  return *LabLayout::create(params);
}

TEST(LabLockTest, ASecondHolderIsRefusedNamingTheFirstAndTheFileStaysForTheNext) {
  const LabLayout layout = lock_test_layout("lab-lock-held");
  const std::string path = lab_lock_path(layout);
  EXPECT_EQ(path, lock_test_dir() + "/lab-lock-held.lock");
  {
    auto first = LabLock::acquire(layout);
    ASSERT_TRUE(first.ok()) << first.status().message();
    EXPECT_TRUE(std::filesystem::exists(path));
    auto second = LabLock::acquire(layout);
    ASSERT_FALSE(second.ok());
    EXPECT_EQ(second.status().code(), StatusCode::kFailedPrecondition);
    EXPECT_EQ(second.status().message(), "lab chaoslab is busy: another chaos-lab up, down or probe (pid " +
                                             std::to_string(::getpid()) + ") holds " + path +
                                             "; run this again when it has finished");
  }
  ASSERT_TRUE(std::filesystem::exists(path)) << "released: the lock file stays";
  struct stat before {};
  ASSERT_EQ(::stat(path.c_str(), &before), 0);
  {
    auto next = LabLock::acquire(layout);
    ASSERT_TRUE(next.ok()) << next.status().message();
    struct stat now {};
    ASSERT_EQ(::stat(path.c_str(), &now), 0);
    EXPECT_EQ(now.st_ino, before.st_ino) << "the next holder locks the same file";
  }
  EXPECT_TRUE(std::filesystem::exists(path));
  std::filesystem::remove(path);
}

// Before, a release unlinked the path even when it no longer named the file
// it had locked: a newcomer's file went too, and a third verb could lock a
// fresh one while the newcomer still ran.
TEST(LabLockTest, AReleaseNeverRemovesAFileItDidNotLock) {
  const LabLayout layout = lock_test_layout("lab-lock-replaced");
  const std::string path = lab_lock_path(layout);
  {
    std::optional<StatusOr<LabLock>> first(LabLock::acquire(layout));
    ASSERT_TRUE(first->ok()) << first->status().message();
    std::filesystem::remove(path);  // replaced while held (by hand, or an older chaosctl)
    auto second = LabLock::acquire(layout);
    ASSERT_TRUE(second.ok()) << second.status().message();
    struct stat held {};
    ASSERT_EQ(::stat(path.c_str(), &held), 0);
    first.reset();  // the first holder releases
    struct stat after {};
    ASSERT_EQ(::stat(path.c_str(), &after), 0) << "the first holder's release removed the second's file";
    EXPECT_EQ(after.st_ino, held.st_ino);
    auto third = LabLock::acquire(layout);
    EXPECT_FALSE(third.ok()) << "a third verb got the lock the second still holds";
  }
  std::filesystem::remove(path);
}

TEST(LabLockTest, ATrailingSlashOnTheStateDirLocksTheSameFile) {
  LabParams params;
  params.state_dir = lock_test_dir() + "/lab-lock-slash/";
  EXPECT_EQ(lab_lock_path(*LabLayout::create(params)), lock_test_dir() + "/lab-lock-slash.lock");
}

// `lab probe` raced `lab up`/`lab down`: it now takes the lock they take.
int lab_command_exit(const std::vector<std::string>& args, std::string& err) {
  CLI::App app;
  add_lab_commands(app);
  std::vector<std::string> reversed(args.rbegin(), args.rend());
  ::testing::internal::CaptureStderr();
  int code = kLabExitOk;
  try {
    app.parse(reversed);
  } catch (const CLI::RuntimeError& error) {
    code = error.get_exit_code();
  } catch (const CLI::ParseError& error) {
    code = error.get_exit_code() == 0 ? kLabExitOk : kLabExitUsage;
  }
  err = ::testing::internal::GetCapturedStderr();
  return code;
}

TEST(LabLockTest, ProbeIsRefusedWhileAnotherVerbHoldsTheLock) {
  const LabLayout layout = lock_test_layout("lab-lock-probe");
  const std::vector<std::string> probe = {"probe", "--state-dir", layout.params().state_dir, "--reset"};
  std::string err;
  {
    auto held = LabLock::acquire(layout);
    ASSERT_TRUE(held.ok()) << held.status().message();
    EXPECT_EQ(lab_command_exit(probe, err), kLabExitError);
    EXPECT_THAT(err, HasSubstr("chaos-lab: lab chaoslab is busy: another chaos-lab up, down or probe"));
  }
  // Free: the probe goes on (and stops at once: no lab is up here, or no root).
  EXPECT_NE(lab_command_exit(probe, err), kLabExitOk);
  EXPECT_THAT(err, Not(HasSubstr("is busy")));
  EXPECT_TRUE(std::filesystem::exists(lab_lock_path(layout)));
  std::filesystem::remove(lab_lock_path(layout));
}

}  // namespace
}  // namespace chaos::lab
