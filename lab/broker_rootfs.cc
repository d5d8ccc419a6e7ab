#include "lab/broker_rootfs.h"

#include <filesystem>
#include <sstream>

#include "lab/lab_containers.h"

namespace chaos::lab {

namespace fs = std::filesystem;

namespace {

constexpr std::size_t kMaxLibraries = 64;  // nats-server links libc only; bounds a strange ldd

// Copies `source` (following symlinks) to `target`, creating its directory.
Status copy_to(const std::string& source, const fs::path& target) {
  std::error_code error;
  fs::create_directories(target.parent_path(), error);
  if (!error) fs::copy_file(source, target, fs::copy_options::overwrite_existing, error);
  if (error) return internal_error("cannot copy " + source + " to " + target.string() + ": " + error.message());
  return {};
}

}  // namespace

std::vector<std::string> shared_libraries_in_ldd(const std::string& ldd_output) {
  std::vector<std::string> libraries;
  std::istringstream lines(ldd_output);
  std::string line;
  while (std::getline(lines, line) && libraries.size() < kMaxLibraries) {
    const auto arrow = line.find("=> ");
    const auto start = line.find('/', arrow == std::string::npos ? 0 : arrow);
    if (start == std::string::npos) continue;
    const auto end = line.find_first_of(" \t", start);
    libraries.push_back(line.substr(start, end == std::string::npos ? std::string::npos : end - start));
  }
  return libraries;
}

Status build_broker_rootfs(const LabLayout& layout, CommandRunner& runner, const std::string& nats_server,
                           const std::string& busybox) {
  const fs::path root = layout.rootfs_dir();
  std::error_code error;
  fs::remove_all(root, error);
  // Mount points Podman and runc expect to exist in a root filesystem.
  for (const std::string dir : {"bin", "etc", "tmp", "proc", "sys", "dev", "run"}) {
    fs::create_directories(root / dir, error);
  }
  if (error) return internal_error("cannot create " + root.string() + ": " + error.message());
  CHAOS_RETURN_IF_ERROR(copy_to(nats_server, root / fs::path(kContainerNatsServer).relative_path()));
  const fs::path shell = root / "bin" / "busybox";
  CHAOS_RETURN_IF_ERROR(copy_to(busybox, shell));
  fs::create_symlink("busybox", root / "bin" / "sh", error);
  if (error) return internal_error("cannot link " + (root / "bin" / "sh").string() + ": " + error.message());
  // ldd exits 1 for a static binary ("not a dynamic executable"): no libraries.
  CHAOS_ASSIGN_OR_RETURN(auto ldd, runner.run({"ldd", nats_server}));
  for (const auto& library : shared_libraries_in_ldd(ldd.exit_code == 0 ? ldd.stdout_text : "")) {
    // Libraries at their host paths: the dynamic loader's paths are absolute.
    CHAOS_RETURN_IF_ERROR(copy_to(library, root / fs::path(library).relative_path()));
  }
  return {};
}

}  // namespace chaos::lab
