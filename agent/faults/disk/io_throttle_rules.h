// The text of the kernel's block I/O throttle files, with no system access:
// cgroup v1's blkio.throttle.{read,write}_{bps,iops}_device ("7:0 1048576"
// per line, one file per limit) and cgroup v2's io.max ("7:0 rbps=1048576
// wbps=max riops=max wiops=max"), plus the byte counters of
// blkio.throttle.io_service_bytes and io.stat.
#pragma once

#include <cstdint>
#include <string>

#include "common/status.h"

namespace chaos::agent::disk {

// A block device as the kernel names it in these files.
struct DeviceNumber {
  unsigned major = 0;
  unsigned minor = 0;

  std::string text() const;  // "7:0"
  bool operator==(const DeviceNumber&) const = default;
};

// INVALID_ARGUMENT unless `text` is "MAJOR:MINOR".
StatusOr<DeviceNumber> parse_device_number(const std::string& text);

// One cgroup's limits on one device; 0 means not limited.
struct ThrottleLimits {
  std::uint64_t read_bps = 0;
  std::uint64_t write_bps = 0;
  std::uint64_t read_iops = 0;
  std::uint64_t write_iops = 0;

  bool any() const { return read_bps != 0 || write_bps != 0 || read_iops != 0 || write_iops != 0; }
  bool operator==(const ThrottleLimits&) const = default;
};

// "write 1 MiB/s, 100 write IOPS"; "no limit" when none is set.
std::string describe_limits(const ThrottleLimits& limits);

// cgroup v1: the four files, in the order of ThrottleLimits' fields.
inline constexpr const char* kBlkioThrottleFiles[] = {
    "blkio.throttle.read_bps_device", "blkio.throttle.write_bps_device",
    "blkio.throttle.read_iops_device", "blkio.throttle.write_iops_device"};

// The field of `limits` kBlkioThrottleFiles[index] holds.
std::uint64_t& blkio_limit_field(ThrottleLimits& limits, int index);
std::uint64_t blkio_limit_field(const ThrottleLimits& limits, int index);

// What one v1 file holds for `device`: 0 when no line names it. The kernel
// writes "MAJ:MIN VALUE" per device; a line it could not have written is
// FAILED_PRECONDITION naming the line.
StatusOr<std::uint64_t> parse_blkio_limit(const std::string& file_text, DeviceNumber device);
// The line written to set one v1 limit; writing 0 deletes the device's rule.
std::string format_blkio_limit(DeviceNumber device, std::uint64_t value);

// cgroup v2: the device's limits in io.max ("max" is 0 here); all zero when
// no line names it.
StatusOr<ThrottleLimits> parse_io_max(const std::string& file_text, DeviceNumber device);
// The line that sets all four limits ("max" for each 0): writing it with
// every field 0 deletes the rule.
std::string format_io_max(DeviceNumber device, const ThrottleLimits& limits);

// Bytes read and written through the cgroup on the device: "MAJ:MIN Read N"
// and "MAJ:MIN Write N" lines of v1's blkio.throttle.io_service_bytes, or
// "MAJ:MIN rbytes=N wbytes=N ..." of v2's io.stat. Zeros when absent.
struct IoBytes {
  std::uint64_t read = 0;
  std::uint64_t written = 0;
};
IoBytes parse_blkio_service_bytes(const std::string& file_text, DeviceNumber device);
IoBytes parse_io_stat(const std::string& file_text, DeviceNumber device);

}  // namespace chaos::agent::disk
