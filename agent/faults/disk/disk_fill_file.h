// The bytes of a disk.fill: reserve them in an open file with fallocate, or
// where the filesystem has no fallocate, write zeroed chunks until enough
// or the filesystem is full. And the filesystem's free space, as disk.fill
// measures it (what an unprivileged writer can still use).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "common/status.h"

namespace chaos::agent::disk {

inline constexpr std::size_t kDiskFillChunkBytes = 1024 * 1024;
// The write fallback's ceiling: apply must end, even on a huge filesystem
// without fallocate.
inline constexpr std::uint64_t kDiskFillMaxWriteBytes = 64ULL * 1024 * 1024 * 1024;

enum class DiskFillMethod { kFallocate, kWrite };

struct DiskFillResult {
  std::uint64_t bytes = 0;  // what the file now holds
  DiskFillMethod method = DiskFillMethod::kFallocate;
};

// Reserves `bytes` in `fd` (an empty regular file, opened for writing) and
// fsyncs it. With `try_fallocate` false only the write fallback runs
// (tests). A fallocate the filesystem refuses (EOPNOTSUPP) or cannot satisfy
// (ENOSPC: someone wrote meanwhile) falls back to writes, which stop at
// ENOSPC: the file then holds less than asked, and that is success. Errors
// name `path`.
StatusOr<DiskFillResult> fill_open_file(int fd, std::uint64_t bytes, bool try_fallocate, const std::string& path);

struct DiskSpace {
  std::uint64_t free_bytes = 0;   // f_bavail * f_frsize
  std::uint64_t total_bytes = 0;  // f_blocks * f_frsize
};

StatusOr<DiskSpace> disk_space(const std::string& path);

// "230 MiB", "512 B", "1.5 GiB": for details and evidence.
std::string disk_fill_bytes_text(std::uint64_t bytes);

}  // namespace chaos::agent::disk
