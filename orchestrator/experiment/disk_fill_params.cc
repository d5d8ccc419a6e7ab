#include "orchestrator/experiment/disk_fill_params.h"

#include <strings.h>

#include <cctype>
#include <cmath>
#include <cstdlib>

namespace chaos::orchestrator {

namespace {

// The agent's own bounds (agent/faults/disk/disk_fill_kind.h).
constexpr std::uint64_t kDiskFillParamMaxLeave = 1ULL << 60;
constexpr std::size_t kDiskFillParamMaxPath = 4096;
}  // namespace

Status build_disk_fill(ParamReader& in, v1::FaultSpec& spec) {
  auto& fill = *spec.mutable_disk_fill();
  CHAOS_ASSIGN_OR_RETURN(auto given, in.text("path"));
  if (!given) return in.missing("path");
  // A copy, not a reference into the optional: GCC 12 at -O2 wrongly
  // warns that the optional's string may be uninitialized.
  const std::string path = *given;
  if (!path.starts_with('/')) return in.error("path", "must be an absolute path, not '" + path + "'");
  if (path.size() > kDiskFillParamMaxPath) {
    return in.error("path", "at most " + std::to_string(kDiskFillParamMaxPath) + " bytes");
  }
  fill.set_path(path);
  const bool bytes_given = in.has("leave_bytes");
  const bool percent_given = in.has("leave_percent");
  if (bytes_given == percent_given) {
    return in.error(bytes_given ? "leave_percent" : "leave_bytes",
                    "exactly one of leave_bytes or leave_percent is required");
  }
  if (bytes_given) {
    CHAOS_ASSIGN_OR_RETURN(auto text, in.text("leave_bytes"));
    auto bytes = parse_byte_size(*text, kDiskFillParamMaxLeave);
    if (!bytes.ok()) return in.error("leave_bytes", bytes.status().message());
    fill.set_leave_bytes(*bytes);
    return {};
  }
  CHAOS_ASSIGN_OR_RETURN(auto percent, in.percent("leave_percent"));
  if (*percent >= 100) return in.error("leave_percent", "must be below 100");
  fill.set_leave_percent(*percent);
  return {};
}

}  // namespace chaos::orchestrator
