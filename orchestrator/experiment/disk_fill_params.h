// disk.fill's TOML / `chaosctl inject --param` schema: `path`, and exactly
// one of `leave_bytes` (a size: "10MiB", "512KB", "1048576") or
// `leave_percent`.
#pragma once

#include <cstdint>
#include <string>

#include "chaos/v1/agent.pb.h"
#include "common/status.h"
#include "orchestrator/experiment/param_reader.h"

namespace chaos::orchestrator {

// A byte count: digits, optionally a fraction, optionally a unit (B, KB,
// MB, GB, TB powers of 1000; KiB, MiB, GiB, TiB powers of 1024; case-
// insensitive, a space allowed). INVALID_ARGUMENT saying why, without the
// parameter's name (the caller adds it). At most `max`.
StatusOr<std::uint64_t> parse_byte_size(const std::string& text, std::uint64_t max);

Status build_disk_fill(ParamReader& in, v1::FaultSpec& spec);

}  // namespace chaos::orchestrator
