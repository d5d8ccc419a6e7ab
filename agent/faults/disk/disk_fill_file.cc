#include "agent/faults/disk/disk_fill_file.h"

#include <fcntl.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <vector>

namespace chaos::agent::disk {

namespace {

Status disk_fill_errno(const std::string& what, const std::string& path, int error) {
  const std::string text = what + " " + path + ": " + std::strerror(error);
  return error == EACCES || error == EPERM ? permission_denied(text) : internal_error(text);
}

// Appends zeroed chunks from `offset` until `bytes` or ENOSPC.
StatusOr<std::uint64_t> disk_fill_write_chunks(int fd, std::uint64_t offset, std::uint64_t bytes,
                                               const std::string& path) {
  const std::vector<char> zeros(kDiskFillChunkBytes, 0);
  const std::uint64_t goal = std::min(bytes, kDiskFillMaxWriteBytes);
  std::uint64_t done = offset;
  while (done < goal) {
    const std::size_t chunk = static_cast<std::size_t>(std::min<std::uint64_t>(zeros.size(), goal - done));
    const ssize_t wrote = ::pwrite(fd, zeros.data(), chunk, static_cast<off_t>(done));
    if (wrote < 0 && errno == EINTR) continue;
    if (wrote < 0 && (errno == ENOSPC || errno == EDQUOT)) break;
    if (wrote < 0) return disk_fill_errno("writing", path, errno);
    if (wrote == 0) break;
    done += static_cast<std::uint64_t>(wrote);
  }
  return done;
}

}  // namespace

StatusOr<DiskFillResult> fill_open_file(int fd, std::uint64_t bytes, bool try_fallocate, const std::string& path) {
  DiskFillResult result;
  bool allocated = false;
  if (try_fallocate && bytes > 0) {
    int rc = 0;
    do {
      rc = ::fallocate(fd, 0, 0, static_cast<off_t>(bytes));
    } while (rc != 0 && errno == EINTR);
    if (rc == 0) {
      allocated = true;
      result.bytes = bytes;
    } else if (errno != EOPNOTSUPP && errno != ENOSPC && errno != EDQUOT) {
      return disk_fill_errno("fallocate on", path, errno);
    }
  }
  if (!allocated && bytes > 0) {
    // A failed fallocate may have allocated part of the range: keep the
    // file's own size as the start so no byte is counted twice.
    const off_t size = ::lseek(fd, 0, SEEK_END);
    CHAOS_ASSIGN_OR_RETURN(result.bytes,
                           disk_fill_write_chunks(fd, size > 0 ? static_cast<std::uint64_t>(size) : 0, bytes, path));
    result.method = DiskFillMethod::kWrite;
  }
  if (::fsync(fd) != 0 && errno != ENOSPC) return disk_fill_errno("fsync of", path, errno);
  return result;
}

StatusOr<DiskSpace> disk_space(const std::string& path) {
  struct statvfs stats {};
  if (::statvfs(path.c_str(), &stats) != 0) return disk_fill_errno("statvfs", path, errno);
  return DiskSpace{static_cast<std::uint64_t>(stats.f_bavail) * stats.f_frsize,
                   static_cast<std::uint64_t>(stats.f_blocks) * stats.f_frsize};
}

std::string disk_fill_bytes_text(std::uint64_t bytes) {
  static const char* const kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  double value = static_cast<double>(bytes);
  std::size_t unit = 0;
  while (value >= 1024 && unit + 1 < std::size(kUnits)) {
    value /= 1024;
    ++unit;
  }
  char text[32];
  if (unit == 0 || value >= 100 || value == static_cast<double>(static_cast<std::uint64_t>(value))) {
    std::snprintf(text, sizeof(text), "%.0f %s", value, kUnits[unit]);
  } else {
    std::snprintf(text, sizeof(text), "%.1f %s", value, kUnits[unit]);
  }
  return text;
}

}  // namespace chaos::agent::disk
