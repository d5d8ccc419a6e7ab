// What `lab down` may leave beside its state dir, checked the same way by
// the lab's lifecycle and end-to-end tests.
#pragma once

#include <gtest/gtest.h>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

namespace chaos::testing {

// The lab's lock file (<state dir>.lock, never removed: lab/lab_lock.h) and
// nothing else that starts with the state dir's name; nobody holds the lock
// any more.
inline void expect_only_the_lab_lock_file(const std::string& state_dir) {
  const std::filesystem::path dir(state_dir);
  std::vector<std::string> beside;
  for (const auto& entry : std::filesystem::directory_iterator(dir.parent_path())) {
    const std::string name = entry.path().filename().string();
    if (name.rfind(dir.filename().string(), 0) == 0) beside.push_back(name);
  }
  EXPECT_EQ(beside, std::vector<std::string>{dir.filename().string() + ".lock"});
  const int fd = ::open((state_dir + ".lock").c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0) << state_dir << ".lock";
  EXPECT_EQ(::flock(fd, LOCK_EX | LOCK_NB), 0) << "the lab lock is still held after down";
  ::close(fd);
}

}  // namespace chaos::testing
