// An ext4 filesystem of the test's own on a loop device: a sparse image in
// `dir`, attached, formatted and mounted at `dir/mnt`; unmounted, detached
// and removed when the object goes (also when a test fails). disk.throttle
// needs a real block device under its path, and the machine's own disks
// are never throttled by a test.
#pragma once

#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "lab/testbed/agent_harness.h"

namespace chaos::agent::integration {

class LoopMount {
 public:
  LoopMount(std::filesystem::path dir, std::uint64_t bytes) : dir_(std::move(dir)) {
    std::filesystem::create_directories(dir_ / "mnt");
    { std::ofstream(dir_ / "disk.img").close(); }
    std::filesystem::resize_file(dir_ / "disk.img", bytes);  // sparse
    if (run({"/usr/sbin/losetup", "-f", "--show", (dir_ / "disk.img").string()}, dir_ / "losetup.out") != 0) {
      error_ = "losetup failed";
      return;
    }
    std::ifstream out(dir_ / "losetup.out");
    std::getline(out, loop_);
    if (loop_.rfind("/dev/loop", 0) != 0) {
      error_ = "losetup printed '" + loop_ + "'";
      loop_.clear();
      return;
    }
    if (run({"/usr/sbin/mkfs.ext4", "-q", loop_}) != 0) {
      error_ = "mkfs.ext4 " + loop_ + " failed";
      return;
    }
    if (run({"/usr/bin/mount", loop_, path().string()}) != 0) {
      error_ = "mount " + loop_ + " failed";
      return;
    }
    mounted_ = true;
    struct stat info {};
    if (::stat(path().c_str(), &info) == 0) {
      device_ = std::to_string(::major(info.st_dev)) + ":" + std::to_string(::minor(info.st_dev));
    }
  }
  ~LoopMount() {
    if (mounted_) run({"/usr/bin/umount", path().string()});
    if (!loop_.empty()) run({"/usr/sbin/losetup", "-d", loop_});
    std::error_code error;
    std::filesystem::remove_all(dir_, error);
  }
  LoopMount(const LoopMount&) = delete;
  LoopMount& operator=(const LoopMount&) = delete;

  // "" once mounted, else what failed.
  const std::string& error() const { return error_; }
  std::filesystem::path path() const { return dir_ / "mnt"; }
  // "major:minor" of the mounted filesystem, as cgroup throttle files name it.
  const std::string& device() const { return device_; }

 private:
  // Runs a tool to its end; its exit status (-1 when it could not be waited for).
  static int run(const std::vector<std::string>& argv, const std::filesystem::path& output = "/dev/null") {
    const pid_t pid = spawn(argv, output.string());
    int status = 0;
    if (pid <= 0 || ::waitpid(pid, &status, 0) != pid) return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }

  std::filesystem::path dir_;
  std::string loop_;
  std::string device_;
  std::string error_;
  bool mounted_ = false;
};

}  // namespace chaos::agent::integration
