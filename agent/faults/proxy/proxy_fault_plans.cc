#include "agent/faults/proxy/proxy_fault_plans.h"

#include <cstdio>

#include "agent/faults/proxy/protocols/http_fault_filter.h"
#include "agent/faults/proxy/protocols/nats_fault_filter.h"
#include "agent/faults/proxy/tcp_fault_filter.h"

namespace chaos::agent::proxy {

namespace {

Duration proxy_plan_duration(const google::protobuf::Duration& duration) {
  return std::chrono::seconds(duration.seconds()) + std::chrono::nanoseconds(duration.nanos());
}

std::string proxy_plan_percent(double percent, const std::string& of_what) {
  char text[32];
  std::snprintf(text, sizeof text, "%g", percent == 0 ? 100.0 : percent);
  return std::string(", ") + text + "% of " + of_what;
}

// The tcp.* scope minus what the protocol kinds say themselves: their own
// percent, and the match (request/response, publish/deliver) as direction.
StatusOr<TcpScopeSpec> proxy_plan_protocol_scope(const v1::TcpScope& scope, const std::string& field,
                                                 const std::string& kind) {
  if (scope.percent() != 0) {
    return invalid_argument(field + ".scope.percent: not used by " + kind + "; " + field +
                            ".percent says what share is faulted");
  }
  if (scope.direction() != v1::TCP_DIRECTION_UNSPECIFIED) {
    return invalid_argument(field + ".scope.direction: not used by " + kind + "; the match says which messages");
  }
  return parse_tcp_scope(scope, field + ".");
}

// "1 connection passed through untouched (1 TLS); last: TLS: cannot see inside (...)"
std::string proxy_plan_pass_through_note(std::uint64_t passed, std::uint64_t tls, const std::string& reason) {
  if (passed == 0) return {};
  return std::to_string(passed) + (passed == 1 ? " connection" : " connections") + " passed through untouched (" +
         std::to_string(tls) + " TLS); last: " + reason;
}

std::string proxy_plan_http_match(const v1::HttpRequestMatch& match) {
  std::string text = match.method().empty() ? "requests" : match.method() + " requests";
  if (!match.path().empty()) text += " to " + match.path();
  if (!match.header().empty()) {
    text += " with " + match.header() + (match.header_value().empty() ? "" : ": " + match.header_value());
  }
  return text;
}

std::string proxy_plan_http_action(const v1::FaultSpec& spec) {
  switch (spec.kind_case()) {
    case v1::FaultSpec::kHttpAbort:
      return "http.abort answering " + std::to_string(spec.http_abort().status()) + " to " +
             proxy_plan_http_match(spec.http_abort().match());
    case v1::FaultSpec::kHttpDelay: {
      const auto& delay = spec.http_delay();
      return "http.delay " + describe_proxy_millis(proxy_plan_duration(delay.delay())) +
             (delay.response() ? " of the responses to " : " of ") + proxy_plan_http_match(delay.match());
    }
    default: {
      const auto& headers = spec.http_headers();
      return "http.headers setting " + std::to_string(headers.request_headers_size()) + " request and " +
             std::to_string(headers.response_headers_size()) + " response headers on " +
             proxy_plan_http_match(headers.match());
    }
  }
}

StatusOr<std::unique_ptr<HttpFilterFactory>> proxy_plan_http_factory(const v1::FaultSpec& spec,
                                                                      ProtocolPercentSource random) {
  switch (spec.kind_case()) {
    case v1::FaultSpec::kHttpAbort: return make_http_filter_factory(spec.http_abort(), std::move(random));
    case v1::FaultSpec::kHttpDelay: return make_http_filter_factory(spec.http_delay(), std::move(random));
    case v1::FaultSpec::kHttpHeaders: return make_http_filter_factory(spec.http_headers(), std::move(random));
    default: return invalid_argument("http: spec is not an http.* fault");
  }
}

ProxyFaultReport proxy_plan_http_report(const HttpFaultCounters& counters) {
  ProxyFaultReport report;
  report.faulted_connections = counters.connections.load();
  report.impaired = counters.requests_matched.load() > 0;
  report.counters = {{"requests_seen", counters.requests_seen.load()},
                     {"requests_matched", counters.requests_matched.load()},
                     {"requests_aborted", counters.requests_aborted.load()},
                     {"requests_delayed", counters.requests_delayed.load()},
                     {"responses_delayed", counters.responses_delayed.load()},
                     {"requests_rewritten", counters.requests_rewritten.load()},
                     {"responses_rewritten", counters.responses_rewritten.load()},
                     {"answers_lost", counters.answers_lost.load()},
                     {"connections_passed_through", counters.pass_through_connections.load()},
                     {"connections_tls", counters.tls_connections.load()}};
  report.note = proxy_plan_pass_through_note(counters.pass_through_connections.load(), counters.tls_connections.load(),
                                             counters.last_pass_through_reason());
  return report;
}

std::string proxy_plan_nats_match(const v1::NatsMessageMatch& match) {
  static const char* const kFlows[] = {"", "published ", "delivered ", ""};
  std::string text = std::string(kFlows[match.flow() >= 0 && match.flow() <= 3 ? match.flow() : 0]) + "messages on ";
  for (int i = 0; i < match.subjects_size(); ++i) text += (i == 0 ? "" : ", ") + match.subjects(i);
  return text + (match.match_reply() ? " (or replying to them)" : "");
}

ProxyFaultReport proxy_plan_nats_report(const NatsFaultCounters& counters) {
  ProxyFaultReport report;
  report.faulted_connections = counters.faulted_connections.load();
  report.impaired = counters.messages_matched.load() > 0;
  report.counters = {{"messages_seen", counters.messages_seen.load()},
                     {"messages_matched", counters.messages_matched.load()},
                     {"messages_delayed", counters.messages_delayed.load()},
                     {"messages_dropped", counters.messages_dropped.load()},
                     {"errors_sent", counters.errors_sent.load()},
                     {"connections_passed_through", counters.pass_through_connections.load()},
                     {"connections_tls", counters.tls_connections.load()}};
  report.note = proxy_plan_pass_through_note(counters.pass_through_connections.load(), counters.tls_connections.load(),
                                             counters.last_pass_through_reason());
  return report;
}

// The parts the five protocol kinds share; a null scope for another kind.
struct ProxyPlanProtocolParts {
  const v1::TcpScope* scope = nullptr;
  double percent = 0;
  std::string field;  // "http_abort"
  std::string kind;   // "http.abort"
};

ProxyPlanProtocolParts proxy_plan_protocol_parts(const v1::FaultSpec& spec) {
  switch (spec.kind_case()) {
    case v1::FaultSpec::kHttpAbort:
      return {&spec.http_abort().scope(), spec.http_abort().percent(), "http_abort", "http.abort"};
    case v1::FaultSpec::kHttpDelay:
      return {&spec.http_delay().scope(), spec.http_delay().percent(), "http_delay", "http.delay"};
    case v1::FaultSpec::kHttpHeaders:
      return {&spec.http_headers().scope(), spec.http_headers().percent(), "http_headers", "http.headers"};
    case v1::FaultSpec::kNatsDelay:
      return {&spec.nats_delay().scope(), spec.nats_delay().percent(), "nats_delay", "nats.delay"};
    case v1::FaultSpec::kNatsDrop:
      return {&spec.nats_drop().scope(), spec.nats_drop().percent(), "nats_drop", "nats.drop"};
    default: return {};
  }
}

}  // namespace

StatusOr<ProxyFaultPlan> tcp_fault_plan(const v1::FaultSpec& spec, std::uint64_t seed) {
  CHAOS_ASSIGN_OR_RETURN(TcpFaultSpec parsed, parse_tcp_fault_spec(spec));
  ProxyFaultPlan plan;
  plan.scope = parsed.scope;
  plan.description = parsed.describe();
  switch (parsed.mode) {
    case TcpFaultMode::kLatency:
      plan.policy_delay = parsed.delay + parsed.jitter;
      plan.delay_field = "tcp_latency.delay";
      break;
    case TcpFaultMode::kSlowClose:
      plan.policy_delay = parsed.delay;
      plan.delay_field = "tcp_slow_close.delay";
      break;
    case TcpFaultMode::kSlicer:
      plan.policy_delay = parsed.delay;
      plan.delay_field = "tcp_slicer.delay";
      break;
    default: break;
  }
  auto factory = std::make_shared<TcpFilterFactory>(std::move(parsed), seed);
  plan.factory = factory;
  plan.report = [factory] {
    ProxyFaultReport report;
    report.faulted_connections = factory->faulted_connections();
    report.impaired = report.faulted_connections > 0;
    return report;
  };
  return plan;
}

StatusOr<ProxyFaultPlan> http_fault_plan(const v1::FaultSpec& spec, std::uint64_t seed) {
  const ProxyPlanProtocolParts parts = proxy_plan_protocol_parts(spec);
  if (parts.scope == nullptr || parts.field.rfind("http_", 0) != 0) {
    return invalid_argument("http: spec is not an http.* fault");
  }
  ProxyFaultPlan plan;
  CHAOS_ASSIGN_OR_RETURN(plan.scope, proxy_plan_protocol_scope(*parts.scope, parts.field, parts.kind));
  CHAOS_ASSIGN_OR_RETURN(std::shared_ptr<HttpFilterFactory> factory,
                         proxy_plan_http_factory(spec, seeded_protocol_percent_source(seed)));
  plan.description = proxy_plan_http_action(spec) + describe_proxy_scope(plan.scope) +
                     proxy_plan_percent(parts.percent, "matching requests");
  if (spec.kind_case() == v1::FaultSpec::kHttpDelay) {
    plan.policy_delay = proxy_plan_duration(spec.http_delay().delay());
    plan.delay_field = "http_delay.delay";
  }
  plan.factory = factory;
  plan.report = [factory] { return proxy_plan_http_report(factory->counters()); };
  return plan;
}

StatusOr<ProxyFaultPlan> nats_fault_plan(const v1::FaultSpec& spec, std::uint64_t seed) {
  const ProxyPlanProtocolParts parts = proxy_plan_protocol_parts(spec);
  if (parts.scope == nullptr || parts.field.rfind("nats_", 0) != 0) {
    return invalid_argument("nats: spec is not a nats.* fault");
  }
  ProxyFaultPlan plan;
  CHAOS_ASSIGN_OR_RETURN(plan.scope, proxy_plan_protocol_scope(*parts.scope, parts.field, parts.kind));
  std::shared_ptr<NatsFilterFactory> factory;
  const bool delay = spec.kind_case() == v1::FaultSpec::kNatsDelay;
  if (delay) {
    CHAOS_ASSIGN_OR_RETURN(factory, make_nats_filter_factory(spec.nats_delay(), seeded_protocol_percent_source(seed)));
    plan.policy_delay = proxy_plan_duration(spec.nats_delay().delay());
    plan.delay_field = "nats_delay.delay";
    plan.description = "nats.delay " + describe_proxy_millis(plan.policy_delay) + " of " +
                       proxy_plan_nats_match(spec.nats_delay().match());
  } else {
    CHAOS_ASSIGN_OR_RETURN(factory, make_nats_filter_factory(spec.nats_drop(), seeded_protocol_percent_source(seed)));
    plan.description = "nats.drop of " + proxy_plan_nats_match(spec.nats_drop().match()) +
                       (spec.nats_drop().error().empty() ? "" : " answering -ERR '" + spec.nats_drop().error() + "'");
  }
  plan.description += describe_proxy_scope(plan.scope) + proxy_plan_percent(parts.percent, "new connections");
  plan.factory = factory;
  plan.report = [factory] { return proxy_plan_nats_report(factory->counters()); };
  return plan;
}

std::vector<std::unique_ptr<FaultKind>> make_proxy_fault_kinds(const AgentEnvironment& env,
                                                               ProxyFaultOptions options) {
  auto claims = std::make_shared<ProxyPortClaims>();
  const std::pair<const char*, ProxyPlanBuilder> kinds_and_plans[] = {
      {"tcp.latency", tcp_fault_plan},  {"tcp.reset_peer", tcp_fault_plan}, {"tcp.limit_data", tcp_fault_plan},
      {"tcp.bandwidth", tcp_fault_plan}, {"tcp.slow_close", tcp_fault_plan}, {"tcp.timeout", tcp_fault_plan},
      {"tcp.slicer", tcp_fault_plan},
      {"http.abort", http_fault_plan},  {"http.delay", http_fault_plan},    {"http.headers", http_fault_plan},
      {"nats.delay", nats_fault_plan},  {"nats.drop", nats_fault_plan},
  };
  std::vector<std::unique_ptr<FaultKind>> kinds;
  for (const auto& [name, plan] : kinds_and_plans) {
    kinds.push_back(std::make_unique<ProxyFaultKind>(name, plan, env, options, claims));
  }
  return kinds;
}

}  // namespace chaos::agent::proxy
