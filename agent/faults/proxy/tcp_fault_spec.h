// The tcp.* specs (tcp.latency, tcp.reset_peer, tcp.limit_data,
// tcp.bandwidth, tcp.slow_close, tcp.timeout, tcp.slicer) checked and reduced
// to one struct the filters, the redirect and the kind share.
#pragma once

#include <cstdint>
#include <string>

#include "chaos/v1/agent.pb.h"
#include "common/clock.h"
#include "common/status.h"

namespace chaos::agent::proxy {

enum class TcpFaultMode { kLatency, kResetPeer, kLimitData, kBandwidth, kSlowClose, kTimeout, kSlicer };

struct TcpScopeSpec {
  std::uint16_t port = 0;
  std::string address;  // IPv4 or IPv6 (canonical, no brackets); empty: any destination
  int family = 0;       // AF_INET or AF_INET6 of `address`; 0 without one
  bool local = true;    // connections opened on this node (nat output)
  bool remote = true;   // connections arriving from elsewhere (nat prerouting)
  double percent = 100;
  bool client_to_server = true;
  bool server_to_client = true;
  bool reset_existing = false;  // RST the connections open at inject
};

struct TcpFaultSpec {
  TcpFaultMode mode = TcpFaultMode::kLatency;
  TcpScopeSpec scope;
  Duration delay{0};  // latency; slow_close; slicer: between segments
  Duration jitter{0};
  bool allow_reorder = false;
  Duration after{0};              // reset_peer: after accept; 0 = not by time
  std::uint64_t after_bytes = 0;  // reset_peer: 0 = not by bytes
  std::uint64_t limit_bytes = 0;  // limit_data
  std::uint64_t bytes_per_second = 0;  // bandwidth
  Duration timeout{0};                 // timeout: 0 = hold until revert
  std::uint32_t slice_average = 0;     // slicer
  std::uint32_t slice_variation = 0;   // slicer: < slice_average

  // "tcp.latency 50ms +-5ms on port 4222, both directions, 100% of connections"
  std::string describe() const;
};

// The scope of any proxy fault (tcp.*, http.*, nats.*); `prefix` names its
// message in errors ("http_abort.").
StatusOr<TcpScopeSpec> parse_tcp_scope(const v1::TcpScope& scope, const std::string& prefix);

// " on port 4222 of 10.0.0.3 (local clients)": what a proxy fault intercepts.
std::string describe_proxy_scope(const TcpScopeSpec& scope);

// "50ms", for the kinds' descriptions.
std::string describe_proxy_millis(Duration value);

// The kind's name for `spec`'s case, empty for a case that is not tcp.*.
std::string tcp_fault_kind_name(const v1::FaultSpec& spec);

// INVALID_ARGUMENT naming the proto field ("tcp_latency.scope.port: ...").
StatusOr<TcpFaultSpec> parse_tcp_fault_spec(const v1::FaultSpec& spec);

}  // namespace chaos::agent::proxy
