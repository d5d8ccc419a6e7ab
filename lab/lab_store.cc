#include "lab/lab_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <sstream>

#include "common/unique_fd.h"

namespace chaos::lab {

namespace {

// mkfs and a umount that flushes a busy store may take a while.
constexpr auto kLabStoreToolTimeout = std::chrono::seconds(60);

Status lab_store_run(CommandRunner& runner, const std::vector<std::string>& argv) {
  auto result = runner.run_checked(argv, RunOptions{"", kLabStoreToolTimeout});
  return result.ok() ? Status{} : result.status();
}

Status create_sparse_image(const std::string& image) {
  UniqueFd fd(::open(image.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (!fd.valid()) return internal_error("cannot create " + image + ": " + std::strerror(errno));
  if (::ftruncate(fd.get(), static_cast<off_t>(kLabStoreBytes)) != 0) {
    return internal_error("cannot size " + image + ": " + std::strerror(errno));
  }
  return {};
}

std::string lab_store_trimmed(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

}  // namespace

std::string lab_store_dir(const LabLayout& layout, int node) { return layout.node_dir(node) + "/jetstream"; }

std::string lab_store_image(const LabLayout& layout, int node) { return layout.node_dir(node) + "/jetstream.img"; }

std::string lab_stream_leader_store(const LabLayout& layout) { return layout.path("stream-leader-store"); }

bool link_stream_leader_store(const LabLayout& layout, const std::string& leader) {
  for (int node = 1; node <= layout.node_count(); ++node) {
    if (layout.node_name(node) != leader) continue;
    const std::string link = lab_stream_leader_store(layout);
    const std::string temporary = link + ".tmp";
    std::error_code error;
    std::filesystem::remove(temporary, error);
    std::filesystem::create_directory_symlink(lab_store_dir(layout, node), temporary, error);
    if (error) return false;
    return std::rename(temporary.c_str(), link.c_str()) == 0;
  }
  return false;
}

std::vector<std::string> loop_devices_in(const std::string& losetup_output) {
  std::vector<std::string> devices;
  std::istringstream lines(losetup_output);
  std::string line;
  while (std::getline(lines, line)) {
    const auto colon = line.find(':');
    if (colon == std::string::npos || line.rfind("/dev/", 0) != 0) continue;
    devices.push_back(line.substr(0, colon));
  }
  return devices;
}

bool is_mount_point(const std::string& path) {
  struct stat self {};
  struct stat parent {};
  if (::lstat(path.c_str(), &self) != 0 || !S_ISDIR(self.st_mode)) return false;
  const std::string up = std::filesystem::path(path).parent_path().string();
  if (::stat(up.c_str(), &parent) != 0) return false;
  return self.st_dev != parent.st_dev;
}

Status LabStore::create_all() {
  for (int node = 1; node <= layout_.node_count(); ++node) {
    CHAOS_RETURN_IF_ERROR(create(node).with_context("JetStream store of " + layout_.node_name(node)));
  }
  return {};
}

Status LabStore::create(int node) {
  const std::string image = lab_store_image(layout_, node);
  const std::string dir = lab_store_dir(layout_, node);
  CHAOS_RETURN_IF_ERROR(create_sparse_image(image));
  CHAOS_ASSIGN_OR_RETURN(auto attached, runner_.run_checked({"losetup", "--find", "--show", image},
                                                            RunOptions{"", kLabStoreToolTimeout}));
  const std::string device = lab_store_trimmed(attached.stdout_text);
  if (device.rfind("/dev/", 0) != 0) {
    return internal_error("losetup --find --show " + image + " printed no device: '" + device + "'");
  }
  // -m 0: nats-server runs as root and could use reserved blocks, so a fill
  // to "N bytes left" would leave it more; without a reservation it does not.
  CHAOS_RETURN_IF_ERROR(lab_store_run(runner_, {"mkfs.ext4", "-q", "-m", "0", device}));
  return lab_store_run(runner_, {"mount", "-t", "ext4", device, dir});
}

Status LabStore::destroy_node(int node) {
  const std::string dir = lab_store_dir(layout_, node);
  const std::string image = lab_store_image(layout_, node);
  if (is_mount_point(dir)) CHAOS_RETURN_IF_ERROR(lab_store_run(runner_, {"umount", dir}));
  if (::access(image.c_str(), F_OK) != 0) return {};
  CHAOS_ASSIGN_OR_RETURN(auto listed, runner_.run_checked({"losetup", "-j", image}, RunOptions{"", kLabStoreToolTimeout}));
  for (const auto& device : loop_devices_in(listed.stdout_text)) {
    CHAOS_RETURN_IF_ERROR(lab_store_run(runner_, {"losetup", "-d", device}));
  }
  return {};
}

Status LabStore::destroy() {
  Status first;
  for (int node = 1; node <= layout_.node_count(); ++node) {
    Status status = destroy_node(node);
    if (!status.ok() && first.ok()) first = status.with_context("JetStream store of " + layout_.node_name(node));
  }
  return first;
}

bool LabStore::any_mounted() const {
  for (int node = 1; node <= layout_.node_count(); ++node) {
    if (is_mount_point(lab_store_dir(layout_, node))) return true;
  }
  return false;
}

StatusOr<LabStoreUsage> LabStore::usage(int node) const {
  const std::string dir = lab_store_dir(layout_, node);
  if (!is_mount_point(dir)) return not_found(dir + " is not mounted");
  struct statvfs stats {};
  if (::statvfs(dir.c_str(), &stats) != 0) return internal_error("statvfs " + dir + ": " + std::strerror(errno));
  return LabStoreUsage{static_cast<std::uint64_t>(stats.f_bavail) * stats.f_frsize,
                       static_cast<std::uint64_t>(stats.f_blocks) * stats.f_frsize};
}

}  // namespace chaos::lab
