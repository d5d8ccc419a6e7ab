// TOML/--param builders of the http.* and nats.* fault specs (issue 19),
// registered in fault_spec_builder.cc. Each reads the interception scope
// too: `port` (required), `address`, `origin`, `reset_existing`.
#pragma once

#include "chaos/v1/agent.pb.h"
#include "common/status.h"
#include "orchestrator/experiment/param_reader.h"

namespace chaos::orchestrator {

// The interception scope every proxy kind shares (port, address, origin,
// reset_existing); tcp.* adds its percent and direction.
Status read_proxy_scope(ParamReader& in, v1::TcpScope& scope);

Status build_http_abort(ParamReader& in, v1::FaultSpec& spec);
Status build_http_delay(ParamReader& in, v1::FaultSpec& spec);
Status build_http_headers(ParamReader& in, v1::FaultSpec& spec);
Status build_nats_delay(ParamReader& in, v1::FaultSpec& spec);
Status build_nats_drop(ParamReader& in, v1::FaultSpec& spec);

}  // namespace chaos::orchestrator
