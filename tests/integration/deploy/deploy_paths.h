// Where the deploy tests find the build and the sources (ctest sets both),
// and a scratch directory removed with everything in it, also on failure.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <string>

namespace chaos::deploy::testing {

inline std::string build_dir() {
  const char* dir = std::getenv("CHAOS_BUILD_DIR");
  return std::filesystem::absolute(dir != nullptr ? dir : "build").string();
}

inline std::string source_dir() {
  const char* dir = std::getenv("CHAOS_SOURCE_DIR");
  return std::filesystem::absolute(dir != nullptr ? dir : ".").string();
}

class ScratchDir {
 public:
  ScratchDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "chaos-deploy-test-XXXXXX").string();
    if (mkdtemp(pattern.data()) != nullptr) path_ = pattern;
  }
  ~ScratchDir() {
    std::error_code ignored;
    if (!path_.empty()) std::filesystem::remove_all(path_, ignored);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace chaos::deploy::testing
