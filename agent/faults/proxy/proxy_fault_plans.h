// The plans of the proxy fault kinds, and the kinds themselves for the
// agent's main: tcp.* (TcpFilterFactory), http.* (HttpFilterFactory) and
// nats.* (NatsFilterFactory), all on one ProxyFaultKind class and one set
// of port claims.
#pragma once

#include <memory>
#include <vector>

#include "agent/fault.h"
#include "agent/faults/proxy/proxy_fault_kind.h"
#include "agent/faults/proxy/proxy_fault_plan.h"

namespace chaos::agent::proxy {

// tcp.latency, tcp.reset_peer, tcp.limit_data.
StatusOr<ProxyFaultPlan> tcp_fault_plan(const v1::FaultSpec& spec, std::uint64_t seed);
// http.abort, http.delay, http.headers: every connection gets the filter,
// the kind's percent picks among the matching requests.
StatusOr<ProxyFaultPlan> http_fault_plan(const v1::FaultSpec& spec, std::uint64_t seed);
// nats.delay, nats.drop: the kind's percent picks connections.
StatusOr<ProxyFaultPlan> nats_fault_plan(const v1::FaultSpec& spec, std::uint64_t seed);

// Every proxy kind, sharing one ProxyPortClaims, for registration in main.
std::vector<std::unique_ptr<FaultKind>> make_proxy_fault_kinds(const AgentEnvironment& env,
                                                               ProxyFaultOptions options = {});

}  // namespace chaos::agent::proxy
