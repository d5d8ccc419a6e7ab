// disk.fill's TOML / `chaosctl inject --param` schema: `path`, and exactly
// one of `leave_bytes` (a size: "10MiB", "512KB", "1048576") or
// `leave_percent`.
#pragma once

#include <cstdint>
#include <string>

#include "chaos/v1/agent.pb.h"
#include "common/status.h"
#include "orchestrator/experiment/byte_size.h"
#include "orchestrator/experiment/param_reader.h"

namespace chaos::orchestrator {

Status build_disk_fill(ParamReader& in, v1::FaultSpec& spec);

}  // namespace chaos::orchestrator
