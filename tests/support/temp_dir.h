// Temporary directories for tests, removed with everything in them: one per
// object (TempDir), or one per test process (process_scratch_dir) for tests
// that name their files ("flags-good.toml") and would otherwise leave them
// in /tmp, or meet another run's.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>

#include <gtest/gtest.h>

namespace chaos::test_support {

// mkdtemp under gtest's TempDir() (TEST_TMPDIR, TMPDIR, else /tmp); removed
// when the object goes, also when an assertion failed.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::path(::testing::TempDir()) / "cor-test-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp " + pattern + " failed");
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string write(const std::string& name, const std::string& text) const {
    const std::string file = path_ + "/" + name;
    std::ofstream(file, std::ios::binary) << text;
    return file;
  }

 private:
  std::string path_;
};

// This process's own directory (no trailing slash), removed when the process
// exits normally: failed assertions included, a crash not.
inline const std::string& process_scratch_dir() {
  static const TempDir dir;
  return dir.path();
}

}  // namespace chaos::test_support
