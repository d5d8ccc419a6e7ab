// What one proxy fault kind (tcp.*, http.*, nats.*) adds to the machinery
// the kinds share (port claim, nft redirect, proxy engine, journal and
// recovery of the table): the scope it intercepts, the filter factory run
// over each proxied connection, and how the fault reports its effect.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "agent/fault.h"
#include "agent/faults/proxy/stream_filter.h"
#include "agent/faults/proxy/tcp_fault_spec.h"
#include "chaos/v1/agent.pb.h"
#include "common/clock.h"
#include "common/status.h"

namespace chaos::agent::proxy {

// Read from the agent's threads while the proxy's thread counts.
struct ProxyFaultReport {
  // Connections given the fault's filter (the rest pass through untouched).
  std::uint64_t faulted_connections = 0;
  // Something in scope was acted on: a connection faulted (tcp.*), a
  // request or message matched (http.*, nats.*). False: armed.
  bool impaired = false;
  // The kind's own counters ("requests_aborted", "messages_dropped", ...).
  std::vector<FaultCounter> counters;
  // A sentence for the fault's detail and proof, empty when there is
  // nothing to add ("1 connection passed through untouched: TLS: ...").
  std::string note;
};

struct ProxyFaultPlan {
  TcpScopeSpec scope;
  std::string description;  // "nats.drop of orders.* ... on port 4222"
  std::shared_ptr<StreamFilterFactory> factory;
  std::function<ProxyFaultReport()> report;
  // Checked against the policy's max_delay when above zero; named by
  // `delay_field` ("http_delay.delay").
  Duration policy_delay{0};
  std::string delay_field;
};

// A kind's plan from its spec; INVALID_ARGUMENT naming the proto field.
// `seed` seeds every random choice of the fault (percentages, jitter).
using ProxyPlanBuilder = std::function<StatusOr<ProxyFaultPlan>(const v1::FaultSpec& spec, std::uint64_t seed)>;

}  // namespace chaos::agent::proxy
