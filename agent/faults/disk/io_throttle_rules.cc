#include "agent/faults/disk/io_throttle_rules.h"

#include <charconv>
#include <sstream>

namespace chaos::agent::disk {

namespace {

bool io_rules_parse_u64(const std::string& text, std::uint64_t& value) {
  const char* end = text.data() + text.size();
  const auto result = std::from_chars(text.data(), end, value);
  return !text.empty() && result.ec == std::errc() && result.ptr == end;
}

bool io_rules_parse_unsigned(const std::string& text, unsigned& value) {
  const char* end = text.data() + text.size();
  const auto result = std::from_chars(text.data(), end, value);
  return !text.empty() && result.ec == std::errc() && result.ptr == end;
}

// "1 MiB/s", "512 KiB/s", "4096 B/s": exact where it can be.
std::string io_rules_rate(std::uint64_t bytes) {
  if (bytes % (1024 * 1024) == 0) return std::to_string(bytes / (1024 * 1024)) + " MiB/s";
  if (bytes % 1024 == 0) return std::to_string(bytes / 1024) + " KiB/s";
  return std::to_string(bytes) + " B/s";
}

}  // namespace

std::string DeviceNumber::text() const { return std::to_string(major) + ":" + std::to_string(minor); }

StatusOr<DeviceNumber> parse_device_number(const std::string& text) {
  const auto colon = text.find(':');
  DeviceNumber device;
  if (colon == std::string::npos || !io_rules_parse_unsigned(text.substr(0, colon), device.major) ||
      !io_rules_parse_unsigned(text.substr(colon + 1), device.minor)) {
    return invalid_argument("device '" + text + "': not MAJOR:MINOR");
  }
  return device;
}

std::string describe_limits(const ThrottleLimits& limits) {
  std::string text;
  const auto add = [&text](const std::string& part) { text += (text.empty() ? "" : ", ") + part; };
  if (limits.read_bps != 0) add("read " + io_rules_rate(limits.read_bps));
  if (limits.write_bps != 0) add("write " + io_rules_rate(limits.write_bps));
  if (limits.read_iops != 0) add(std::to_string(limits.read_iops) + " read IOPS");
  if (limits.write_iops != 0) add(std::to_string(limits.write_iops) + " write IOPS");
  return text.empty() ? "no limit" : text;
}

std::uint64_t& blkio_limit_field(ThrottleLimits& limits, int index) {
  switch (index) {
    case 0: return limits.read_bps;
    case 1: return limits.write_bps;
    case 2: return limits.read_iops;
    default: return limits.write_iops;
  }
}

std::uint64_t blkio_limit_field(const ThrottleLimits& limits, int index) {
  switch (index) {
    case 0: return limits.read_bps;
    case 1: return limits.write_bps;
    case 2: return limits.read_iops;
    default: return limits.write_iops;
  }
}

StatusOr<std::uint64_t> parse_blkio_limit(const std::string& file_text, DeviceNumber device) {
  std::istringstream lines(file_text);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.empty()) continue;
    std::istringstream words(line);
    std::string name;
    std::string value_text;
    std::string extra;
    words >> name >> value_text;
    std::uint64_t value = 0;
    if (!parse_device_number(name).ok() || !io_rules_parse_u64(value_text, value) || (words >> extra)) {
      return failed_precondition("unexpected throttle line '" + line + "'");
    }
    if (name == device.text()) return value;
  }
  return std::uint64_t{0};
}

std::string format_blkio_limit(DeviceNumber device, std::uint64_t value) {
  return device.text() + " " + std::to_string(value) + "\n";
}

StatusOr<ThrottleLimits> parse_io_max(const std::string& file_text, DeviceNumber device) {
  std::istringstream lines(file_text);
  std::string line;
  while (std::getline(lines, line)) {
    std::istringstream words(line);
    std::string name;
    if (!(words >> name) || name != device.text()) continue;
    ThrottleLimits limits;
    std::string pair;
    while (words >> pair) {
      const auto equals = pair.find('=');
      if (equals == std::string::npos) return failed_precondition("unexpected io.max line '" + line + "'");
      const std::string key = pair.substr(0, equals);
      const std::string value_text = pair.substr(equals + 1);
      std::uint64_t value = 0;
      if (value_text != "max" && !io_rules_parse_u64(value_text, value)) {
        return failed_precondition("unexpected io.max line '" + line + "'");
      }
      if (key == "rbps") limits.read_bps = value;
      else if (key == "wbps") limits.write_bps = value;
      else if (key == "riops") limits.read_iops = value;
      else if (key == "wiops") limits.write_iops = value;
    }
    return limits;
  }
  return ThrottleLimits{};
}

std::string format_io_max(DeviceNumber device, const ThrottleLimits& limits) {
  const auto value = [](std::uint64_t limit) { return limit == 0 ? std::string("max") : std::to_string(limit); };
  return device.text() + " rbps=" + value(limits.read_bps) + " wbps=" + value(limits.write_bps) +
         " riops=" + value(limits.read_iops) + " wiops=" + value(limits.write_iops) + "\n";
}

IoBytes parse_blkio_service_bytes(const std::string& file_text, DeviceNumber device) {
  IoBytes bytes;
  std::istringstream lines(file_text);
  std::string line;
  while (std::getline(lines, line)) {
    std::istringstream words(line);
    std::string name;
    std::string operation;
    std::string value_text;
    std::uint64_t value = 0;
    if (!(words >> name >> operation >> value_text) || name != device.text()) continue;
    if (!io_rules_parse_u64(value_text, value)) continue;
    if (operation == "Read") bytes.read = value;
    if (operation == "Write") bytes.written = value;
  }
  return bytes;
}

IoBytes parse_io_stat(const std::string& file_text, DeviceNumber device) {
  IoBytes bytes;
  std::istringstream lines(file_text);
  std::string line;
  while (std::getline(lines, line)) {
    std::istringstream words(line);
    std::string name;
    if (!(words >> name) || name != device.text()) continue;
    std::string pair;
    while (words >> pair) {
      std::uint64_t value = 0;
      if (pair.rfind("rbytes=", 0) == 0 && io_rules_parse_u64(pair.substr(7), value)) bytes.read = value;
      if (pair.rfind("wbytes=", 0) == 0 && io_rules_parse_u64(pair.substr(7), value)) bytes.written = value;
    }
  }
  return bytes;
}

}  // namespace chaos::agent::disk
