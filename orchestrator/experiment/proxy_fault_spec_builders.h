// TOML/--param builders of the http.* and nats.* fault specs (issue 19),
// registered in fault_spec_builder.cc. Each reads the interception scope
// too: `port` (required), `address`, `origin`.
#pragma once

#include "chaos/v1/agent.pb.h"
#include "common/status.h"
#include "orchestrator/experiment/param_reader.h"

namespace chaos::orchestrator {

Status build_http_abort(ParamReader& in, v1::FaultSpec& spec);
Status build_http_delay(ParamReader& in, v1::FaultSpec& spec);
Status build_http_headers(ParamReader& in, v1::FaultSpec& spec);
Status build_nats_delay(ParamReader& in, v1::FaultSpec& spec);
Status build_nats_drop(ParamReader& in, v1::FaultSpec& spec);

}  // namespace chaos::orchestrator
