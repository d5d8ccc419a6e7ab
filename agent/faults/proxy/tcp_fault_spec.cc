#include "agent/faults/proxy/tcp_fault_spec.h"

#include <arpa/inet.h>

#include <cmath>
#include <cstring>
#include <cstdio>
#include <tuple>
#include <utility>

#include "agent/proto_convert.h"

namespace chaos::agent::proxy {

namespace {

using namespace std::chrono_literals;

// Longer delays are outages, which tcp.timeout-like faults model better;
// the policy's max_delay usually bounds them far lower.
constexpr Duration kTcpSpecMaxDelay = std::chrono::minutes(10);
constexpr Duration kTcpSpecMaxAfter = std::chrono::hours(24);
constexpr std::uint64_t kTcpSpecMaxBytes = std::uint64_t{1} << 40;
constexpr std::size_t kTcpSpecMaxAddressLength = 64;  // an IPv6 literal is at most 45
constexpr std::uint64_t kTcpSpecMaxRate = std::uint64_t{1} << 34;  // 16 GiB/s: above any NIC
constexpr std::uint32_t kTcpSpecMaxSlice = 64 * 1024;               // the proxy's read size

// Range-checked before any arithmetic: seconds near 2^63 / 10^9 would
// wrap in nanoseconds (to 1 s, or from negative to positive).
StatusOr<Duration> tcp_spec_duration(const google::protobuf::Duration& duration, const std::string& field,
                                 Duration max) {
  CHAOS_ASSIGN_OR_RETURN(const Duration value, from_proto_duration(duration, field));
  if (value < Duration{0}) return invalid_argument(field + ": must not be negative");
  if (value > max) return invalid_argument(field + ": at most " + std::to_string(max / 1s) + "s");
  return value;
}

// The address in canonical form ("fd00::3" for "[FD00:0::3]") and its
// family; a port is refused here (it has its own field).
StatusOr<std::pair<std::string, int>> tcp_spec_address(const std::string& text, const std::string& prefix) {
  const std::string field = prefix + "scope.address";
  const std::string shown = "\"" + text.substr(0, kTcpSpecMaxAddressLength) + "\"";
  if (text.size() > kTcpSpecMaxAddressLength) return invalid_argument(field + ": too long: " + shown);
  std::string host = text;
  if (host.front() == '[') {
    const auto close = host.find(']');
    if (close == std::string::npos) return invalid_argument(field + ": unbalanced '[' in " + shown);
    if (close + 1 != host.size()) {
      return invalid_argument(field + ": " + shown + " carries a port; the port goes in scope.port");
    }
    host = host.substr(1, close - 1);
    if (host.find(':') == std::string::npos) return invalid_argument(field + ": brackets only enclose IPv6: " + shown);
  }
  char canonical[INET6_ADDRSTRLEN] = "";
  in6_addr v6{};
  if (::inet_pton(AF_INET6, host.c_str(), &v6) == 1) {
    // ::ffff:10.0.0.3 names an IPv4 host, whose packets are IPv4 on the
    // wire: an ip6 rule for it would redirect nothing while the fault
    // reports armed.
    if (IN6_IS_ADDR_V4MAPPED(&v6)) {
      in_addr mapped{};
      std::memcpy(&mapped, &v6.s6_addr[12], sizeof mapped);
      ::inet_ntop(AF_INET, &mapped, canonical, sizeof canonical);
      return invalid_argument(field + ": " + shown + " is an IPv4-mapped IPv6 address (its traffic is IPv4); write " +
                              canonical);
    }
    ::inet_ntop(AF_INET6, &v6, canonical, sizeof canonical);
    return std::pair<std::string, int>(canonical, AF_INET6);
  }
  in_addr v4{};
  if (host.find(':') == std::string::npos && ::inet_pton(AF_INET, host.c_str(), &v4) == 1) {
    ::inet_ntop(AF_INET, &v4, canonical, sizeof canonical);
    return std::pair<std::string, int>(canonical, AF_INET);
  }
  const auto colon = host.find(':');
  if (colon != std::string::npos && host.find(':', colon + 1) == std::string::npos) {
    return invalid_argument(field + ": " + shown + " carries a port; the port goes in scope.port");
  }
  return invalid_argument(field + ": not an IPv4 or IPv6 address: " + shown);
}

}  // namespace

StatusOr<TcpScopeSpec> parse_tcp_scope(const v1::TcpScope& scope, const std::string& prefix) {
  TcpScopeSpec out;
  if (scope.port() == 0 || scope.port() > 65535) {
    return invalid_argument(prefix + "scope.port: required, 1..65535 (got " + std::to_string(scope.port()) + ")");
  }
  out.port = static_cast<std::uint16_t>(scope.port());
  if (!scope.address().empty()) {
    CHAOS_ASSIGN_OR_RETURN(std::tie(out.address, out.family), tcp_spec_address(scope.address(), prefix));
  }
  switch (scope.origin()) {
    case v1::TcpScope::ORIGIN_LOCAL: out.remote = false; break;
    case v1::TcpScope::ORIGIN_REMOTE: out.local = false; break;
    case v1::TcpScope::ORIGIN_UNSPECIFIED:
    case v1::TcpScope::ORIGIN_ANY: break;
    default: return invalid_argument(prefix + "scope.origin: unknown value " + std::to_string(scope.origin()));
  }
  if (!std::isfinite(scope.percent()) || scope.percent() < 0 || scope.percent() > 100) {
    return invalid_argument(prefix + "scope.percent: must be within [0, 100] (0 means 100)");
  }
  out.percent = scope.percent() == 0 ? 100 : scope.percent();
  switch (scope.direction()) {
    case v1::TCP_DIRECTION_CLIENT_TO_SERVER: out.server_to_client = false; break;
    case v1::TCP_DIRECTION_SERVER_TO_CLIENT: out.client_to_server = false; break;
    case v1::TCP_DIRECTION_UNSPECIFIED:
    case v1::TCP_DIRECTION_BOTH: break;
    default: return invalid_argument(prefix + "scope.direction: unknown value " + std::to_string(scope.direction()));
  }
  out.reset_existing = scope.reset_existing();
  return out;
}

StatusOr<TcpFaultSpec> parse_tcp_bandwidth(const v1::TcpBandwidth& bandwidth) {
  TcpFaultSpec out;
  out.mode = TcpFaultMode::kBandwidth;
  CHAOS_ASSIGN_OR_RETURN(out.scope, parse_tcp_scope(bandwidth.scope(), "tcp_bandwidth."));
  if (bandwidth.bytes_per_second() == 0 || bandwidth.bytes_per_second() > kTcpSpecMaxRate) {
    return invalid_argument("tcp_bandwidth.bytes_per_second: required, 1..2^34");
  }
  out.bytes_per_second = bandwidth.bytes_per_second();
  return out;
}

StatusOr<TcpFaultSpec> parse_tcp_slow_close(const v1::TcpSlowClose& slow_close) {
  TcpFaultSpec out;
  out.mode = TcpFaultMode::kSlowClose;
  CHAOS_ASSIGN_OR_RETURN(out.scope, parse_tcp_scope(slow_close.scope(), "tcp_slow_close."));
  CHAOS_ASSIGN_OR_RETURN(out.delay, tcp_spec_duration(slow_close.delay(), "tcp_slow_close.delay", kTcpSpecMaxDelay));
  if (out.delay <= Duration{0}) return invalid_argument("tcp_slow_close.delay: must be positive");
  return out;
}

StatusOr<TcpFaultSpec> parse_tcp_timeout(const v1::TcpTimeout& timeout) {
  TcpFaultSpec out;
  out.mode = TcpFaultMode::kTimeout;
  CHAOS_ASSIGN_OR_RETURN(out.scope, parse_tcp_scope(timeout.scope(), "tcp_timeout."));
  CHAOS_ASSIGN_OR_RETURN(out.timeout, tcp_spec_duration(timeout.timeout(), "tcp_timeout.timeout", kTcpSpecMaxAfter));
  return out;
}

StatusOr<TcpFaultSpec> parse_tcp_slicer(const v1::TcpSlicer& slicer) {
  TcpFaultSpec out;
  out.mode = TcpFaultMode::kSlicer;
  CHAOS_ASSIGN_OR_RETURN(out.scope, parse_tcp_scope(slicer.scope(), "tcp_slicer."));
  if (slicer.average_size() == 0 || slicer.average_size() > kTcpSpecMaxSlice) {
    return invalid_argument("tcp_slicer.average_size: required, 1..65536");
  }
  if (slicer.size_variation() >= slicer.average_size()) {
    return invalid_argument("tcp_slicer.size_variation: must be below average_size");
  }
  out.slice_average = slicer.average_size();
  out.slice_variation = slicer.size_variation();
  CHAOS_ASSIGN_OR_RETURN(out.delay, tcp_spec_duration(slicer.delay(), "tcp_slicer.delay", kTcpSpecMaxDelay));
  return out;
}

std::string describe_proxy_millis(Duration value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.0fms", std::chrono::duration<double, std::milli>(value).count());
  return text;
}

std::string describe_proxy_scope(const TcpScopeSpec& scope) {
  std::string text = " on port " + std::to_string(scope.port);
  if (!scope.address.empty()) text += " of " + scope.address;
  return text + (scope.local && scope.remote ? "" : (scope.local ? " (local clients)" : " (remote clients)"));
}

std::string tcp_fault_kind_name(const v1::FaultSpec& spec) {
  switch (spec.kind_case()) {
    case v1::FaultSpec::kTcpLatency: return "tcp.latency";
    case v1::FaultSpec::kTcpResetPeer: return "tcp.reset_peer";
    case v1::FaultSpec::kTcpLimitData: return "tcp.limit_data";
    case v1::FaultSpec::kTcpBandwidth: return "tcp.bandwidth";
    case v1::FaultSpec::kTcpSlowClose: return "tcp.slow_close";
    case v1::FaultSpec::kTcpTimeout: return "tcp.timeout";
    case v1::FaultSpec::kTcpSlicer: return "tcp.slicer";
    default: return {};
  }
}

StatusOr<TcpFaultSpec> parse_tcp_fault_spec(const v1::FaultSpec& spec) {
  TcpFaultSpec out;
  switch (spec.kind_case()) {
    case v1::FaultSpec::kTcpLatency: {
      const auto& latency = spec.tcp_latency();
      out.mode = TcpFaultMode::kLatency;
      CHAOS_ASSIGN_OR_RETURN(out.scope, parse_tcp_scope(latency.scope(), "tcp_latency."));
      CHAOS_ASSIGN_OR_RETURN(out.delay, tcp_spec_duration(latency.delay(), "tcp_latency.delay", kTcpSpecMaxDelay));
      if (out.delay <= Duration{0}) return invalid_argument("tcp_latency.delay: must be positive");
      CHAOS_ASSIGN_OR_RETURN(out.jitter, tcp_spec_duration(latency.jitter(), "tcp_latency.jitter", kTcpSpecMaxDelay));
      if (out.jitter > out.delay) return invalid_argument("tcp_latency.jitter: at most the delay");
      out.allow_reorder = latency.allow_reorder();
      return out;
    }
    case v1::FaultSpec::kTcpResetPeer: {
      const auto& reset = spec.tcp_reset_peer();
      out.mode = TcpFaultMode::kResetPeer;
      CHAOS_ASSIGN_OR_RETURN(out.scope, parse_tcp_scope(reset.scope(), "tcp_reset_peer."));
      CHAOS_ASSIGN_OR_RETURN(out.after, tcp_spec_duration(reset.after(), "tcp_reset_peer.after", kTcpSpecMaxAfter));
      if (reset.after_bytes() > kTcpSpecMaxBytes) return invalid_argument("tcp_reset_peer.after_bytes: at most 2^40");
      out.after_bytes = reset.after_bytes();
      if (out.after == Duration{0} && out.after_bytes == 0) {
        return invalid_argument("tcp_reset_peer: one of after, after_bytes is required");
      }
      return out;
    }
    case v1::FaultSpec::kTcpLimitData: {
      const auto& limit = spec.tcp_limit_data();
      out.mode = TcpFaultMode::kLimitData;
      CHAOS_ASSIGN_OR_RETURN(out.scope, parse_tcp_scope(limit.scope(), "tcp_limit_data."));
      if (limit.bytes() == 0 || limit.bytes() > kTcpSpecMaxBytes) {
        return invalid_argument("tcp_limit_data.bytes: required, 1..2^40");
      }
      out.limit_bytes = limit.bytes();
      return out;
    }
    case v1::FaultSpec::kTcpBandwidth: return parse_tcp_bandwidth(spec.tcp_bandwidth());
    case v1::FaultSpec::kTcpSlowClose: return parse_tcp_slow_close(spec.tcp_slow_close());
    case v1::FaultSpec::kTcpTimeout: return parse_tcp_timeout(spec.tcp_timeout());
    case v1::FaultSpec::kTcpSlicer: return parse_tcp_slicer(spec.tcp_slicer());
    default: return invalid_argument("tcp: spec is not a tcp.* fault");
  }
}

std::string TcpFaultSpec::describe() const {
  std::string text;
  switch (mode) {
    case TcpFaultMode::kLatency:
      text = "tcp.latency " + describe_proxy_millis(delay) + (jitter > Duration{0} ? " +-" + describe_proxy_millis(jitter) : "") +
             (allow_reorder ? " (chunks may reorder)" : "");
      break;
    case TcpFaultMode::kResetPeer:
      text = "tcp.reset_peer after";
      if (after > Duration{0}) text += " " + describe_proxy_millis(after);
      if (after > Duration{0} && after_bytes > 0) text += " or";
      if (after_bytes > 0) text += " " + std::to_string(after_bytes) + " bytes";
      break;
    case TcpFaultMode::kLimitData: text = "tcp.limit_data " + std::to_string(limit_bytes) + " bytes"; break;
    case TcpFaultMode::kBandwidth: text = "tcp.bandwidth " + std::to_string(bytes_per_second) + " bytes/s"; break;
    case TcpFaultMode::kSlowClose: text = "tcp.slow_close " + describe_proxy_millis(delay); break;
    case TcpFaultMode::kTimeout:
      text = "tcp.timeout " + (timeout > Duration{0} ? "closing after " + describe_proxy_millis(timeout) : "until revert");
      break;
    case TcpFaultMode::kSlicer:
      text = "tcp.slicer " + std::to_string(slice_average) + "+-" + std::to_string(slice_variation) + " bytes" +
             (delay > Duration{0} ? ", " + describe_proxy_millis(delay) + " apart" : "");
      break;
  }
  text += describe_proxy_scope(scope);
  text += scope.client_to_server && scope.server_to_client
              ? ", both directions"
              : (scope.client_to_server ? ", client to server" : ", server to client");
  char percent[48];
  std::snprintf(percent, sizeof percent, "%g", scope.percent);
  return text + ", " + percent + "% of new connections" +
         (scope.reset_existing ? "; connections open at inject reset" : "");
}

}  // namespace chaos::agent::proxy
