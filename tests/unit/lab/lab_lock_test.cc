// The lab lock: up, down and probe never run at the same time on one lab;
// the second is refused at once with the holder's pid, and the lock file
// goes away with its holder.
#include "lab/lab_lock.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

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

TEST(LabLockTest, ASecondHolderIsRefusedNamingTheFirstAndTheFileGoesWithTheLock) {
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
  EXPECT_FALSE(std::filesystem::exists(path)) << "released: no lock file left behind";
  EXPECT_TRUE(LabLock::acquire(layout).ok());
  EXPECT_FALSE(std::filesystem::exists(path));
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
  EXPECT_FALSE(std::filesystem::exists(lab_lock_path(layout)));
}

}  // namespace
}  // namespace chaos::lab
