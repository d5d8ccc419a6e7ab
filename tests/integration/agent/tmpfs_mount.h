// A small tmpfs of the test's own at a fresh directory, unmounted and
// removed when the object goes (also when a test fails): disk.fill's tests
// fill only this, never a filesystem of the machine.
#pragma once

#include <sys/mount.h>
#include <sys/statvfs.h>

#include <cstdint>
#include <filesystem>
#include <string>

namespace chaos::agent::integration {

class TmpfsMount {
 public:
  TmpfsMount(std::filesystem::path dir, std::uint64_t bytes) : dir_(std::move(dir)) {
    std::filesystem::create_directories(dir_);
    const std::string options = "size=" + std::to_string(bytes) + ",mode=0755";
    mounted_ = ::mount("tmpfs", dir_.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, options.c_str()) == 0;
  }
  ~TmpfsMount() {
    if (mounted_) ::umount2(dir_.c_str(), MNT_DETACH);
    std::error_code error;
    std::filesystem::remove_all(dir_, error);
  }
  TmpfsMount(const TmpfsMount&) = delete;
  TmpfsMount& operator=(const TmpfsMount&) = delete;

  bool mounted() const { return mounted_; }
  const std::filesystem::path& path() const { return dir_; }

  // What statvfs says is left (f_bavail * f_frsize); 0 when it cannot tell.
  std::uint64_t free_bytes() const {
    struct statvfs stats {};
    if (::statvfs(dir_.c_str(), &stats) != 0) return 0;
    return static_cast<std::uint64_t>(stats.f_bavail) * stats.f_frsize;
  }

 private:
  std::filesystem::path dir_;
  bool mounted_ = false;
};

}  // namespace chaos::agent::integration
