#include "orchestrator/experiment/proxy_fault_spec_builders.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cctype>
#include <limits>

#include "orchestrator/experiment/fault_spec_builder.h"

namespace chaos::orchestrator {

namespace {

// The agent checks the same bounds (agent/faults/proxy/protocols); here they
// are reported with the experiment file's line.
constexpr std::size_t kProxySpecMaxBody = 64 * 1024;
constexpr std::size_t kProxySpecMaxHeaders = 16;
constexpr std::size_t kProxySpecMaxSubjects = 16;
constexpr std::size_t kProxySpecMaxText = 1024;
constexpr std::size_t kProxySpecMaxErrorText = 256;
constexpr auto kProxySpecMaxDelay = std::chrono::minutes(10);

bool proxy_spec_is_token(const std::string& text) {
  static const std::string kSpecials = "!#$%&'*+-.^_`|~";
  if (text.empty() || text.size() > 256) return false;
  for (char c : text) {
    const bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    if (!alnum && kSpecials.find(c) == std::string::npos) return false;
  }
  return true;
}

bool proxy_spec_is_printable(const std::string& text, bool allow_space) {
  for (char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte >= 0x7f || (!allow_space && c == ' ')) return false;
  }
  return true;
}

Status proxy_spec_percent(ParamReader& in, double& out) {
  CHAOS_ASSIGN_OR_RETURN(auto value, in.percent("percent"));
  out = value.value_or(0);
  return {};
}

Status proxy_spec_delay(ParamReader& in, google::protobuf::Duration* out) {
  CHAOS_ASSIGN_OR_RETURN(auto delay, in.duration("delay"));
  if (!delay) return in.missing("delay");
  if (*delay <= std::chrono::nanoseconds::zero() || *delay > kProxySpecMaxDelay) {
    return in.error("delay", "must be above 0 and at most 10m");
  }
  set_proto_duration(*delay, out);
  return {};
}

Status proxy_spec_bool(ParamReader& in, const std::string& name, bool& out) {
  CHAOS_ASSIGN_OR_RETURN(auto value, in.choice(name, {"false", "true"}));
  out = value.value_or(0) == 1;
  return {};
}

// method, path, header, header_value: which requests an http.* fault takes.
Status read_http_match(ParamReader& in, v1::HttpRequestMatch& match) {
  CHAOS_ASSIGN_OR_RETURN(auto method, in.text("method"));
  if (method && !proxy_spec_is_token(*method)) return in.error("method", "an HTTP method such as GET");
  if (method) match.set_method(*method);
  CHAOS_ASSIGN_OR_RETURN(auto path, in.text("path"));
  if (path && (path->size() > kProxySpecMaxText || !proxy_spec_is_printable(*path, false))) {
    return in.error("path", "a glob of printable characters without spaces, at most 1024");
  }
  if (path) match.set_path(*path);
  CHAOS_ASSIGN_OR_RETURN(auto header, in.text("header"));
  if (header && !proxy_spec_is_token(*header)) return in.error("header", "an HTTP header name");
  if (header) match.set_header(*header);
  CHAOS_ASSIGN_OR_RETURN(auto value, in.text("header_value"));
  if (value && !header) return in.error("header_value", "needs 'header'");
  if (value && (value->size() > 4096 || !proxy_spec_is_printable(*value, true))) {
    return in.error("header_value", "printable characters, at most 4096");
  }
  if (value) match.set_header_value(*value);
  return {};
}

// "Name: value" items.
Status read_http_headers(ParamReader& in, const std::string& name,
                         google::protobuf::RepeatedPtrField<v1::HttpHeader>& out) {
  CHAOS_ASSIGN_OR_RETURN(auto items, in.list(name));
  if (items.size() > kProxySpecMaxHeaders) return in.error(name, "at most 16 headers");
  for (const auto& item : items) {
    const auto colon = item.find(':');
    std::string header = item.substr(0, colon);
    std::string value = colon == std::string::npos ? "" : item.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.erase(0, 1);
    if (colon == std::string::npos || !proxy_spec_is_token(header)) {
      return in.error(name, "'" + item + "' is not \"Name: value\"");
    }
    if (header.size() == 14 || header.size() == 17) {
      std::string lower = header;
      for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (lower == "content-length" || lower == "transfer-encoding") {
        return in.error(name, header + " cannot be injected (it frames the message)");
      }
    }
    if (value.size() > 4096 || !proxy_spec_is_printable(value, true)) {
      return in.error(name, "the value of " + header + " must be printable, at most 4096 characters");
    }
    auto* added = out.Add();
    added->set_name(header);
    added->set_value(value);
  }
  return {};
}

bool proxy_spec_subject_ok(const std::string& subject) {
  if (subject.empty() || subject.size() > 256) return false;
  std::size_t start = 0;
  while (true) {
    const auto dot = subject.find('.', start);
    const std::string token = subject.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (token.empty() || !proxy_spec_is_printable(token, false)) return false;
    if (token.size() > 1 && token.find_first_of("*>") != std::string::npos) return false;
    if (token == ">" && dot != std::string::npos) return false;
    if (dot == std::string::npos) return true;
    start = dot + 1;
  }
}

// subjects, match_reply, flow, max_control_line, max_payload.
Status read_nats_match(ParamReader& in, v1::NatsMessageMatch& match, v1::NatsParserLimits& limits) {
  CHAOS_ASSIGN_OR_RETURN(auto subjects, in.list("subjects"));
  if (subjects.empty()) return in.missing("subjects");
  if (subjects.size() > kProxySpecMaxSubjects) return in.error("subjects", "at most 16 subjects");
  for (const auto& subject : subjects) {
    if (!proxy_spec_subject_ok(subject)) {
      return in.error("subjects", "'" + subject + "' is not a NATS subject (tokens separated by '.', '*' for one "
                                  "token, a final '>' for the rest)");
    }
    match.add_subjects(subject);
  }
  bool reply = false;
  CHAOS_RETURN_IF_ERROR(proxy_spec_bool(in, "match_reply", reply));
  match.set_match_reply(reply);
  CHAOS_ASSIGN_OR_RETURN(auto flow, in.choice("flow", {"publish", "deliver", "both"}));
  static const v1::NatsMessageMatch::Flow kFlows[] = {v1::NatsMessageMatch::FLOW_PUBLISH,
                                                      v1::NatsMessageMatch::FLOW_DELIVER,
                                                      v1::NatsMessageMatch::FLOW_BOTH};
  match.set_flow(flow ? kFlows[*flow] : v1::NatsMessageMatch::FLOW_BOTH);
  CHAOS_ASSIGN_OR_RETURN(auto line, in.unsigned_int("max_control_line", 64 * 1024));
  if (line && *line < 64) return in.error("max_control_line", "must be at least 64");
  if (line) limits.set_max_control_line(static_cast<uint32_t>(*line));
  CHAOS_ASSIGN_OR_RETURN(auto payload, in.unsigned_int("max_payload", 64 * 1024 * 1024));
  if (payload && *payload == 0) return in.error("max_payload", "must be at least 1");
  if (payload) limits.set_max_payload(static_cast<uint32_t>(*payload));
  return {};
}

// ::ffff:10.0.0.3 names an IPv4 host whose traffic is IPv4 on the wire: an
// IPv6 rule for it would redirect nothing.
std::string proxy_spec_mapped_problem(const in6_addr& v6) {
  if (!IN6_IS_ADDR_V4MAPPED(&v6)) return "";
  char dotted[INET_ADDRSTRLEN] = "";
  ::inet_ntop(AF_INET, &v6.s6_addr[12], dotted, sizeof dotted);
  return std::string("an IPv4-mapped IPv6 address (its traffic is IPv4); write ") + dotted;
}

// Why `text` is not a scope address (an IPv4 or IPv6 literal, the latter
// optionally in brackets, never with a port), or "". The agent checks it
// again and canonicalises it.
std::string proxy_spec_address_problem(const std::string& text) {
  std::string host = text;
  if (!host.empty() && host.front() == '[') {
    const auto close = host.find(']');
    if (close == std::string::npos) return "unbalanced '['";
    if (close + 1 != host.size()) return "carries a port; the port goes in port";
    host = host.substr(1, close - 1);
    in6_addr v6{};
    if (::inet_pton(AF_INET6, host.c_str(), &v6) != 1) return "brackets enclose an IPv6 address only";
    return proxy_spec_mapped_problem(v6);
  }
  in_addr v4{};
  in6_addr v6{};
  if (::inet_pton(AF_INET, host.c_str(), &v4) == 1) return "";
  if (::inet_pton(AF_INET6, host.c_str(), &v6) == 1) return proxy_spec_mapped_problem(v6);
  const auto colon = host.find(':');
  if (colon != std::string::npos && host.find(':', colon + 1) == std::string::npos) {
    return "carries a port; the port goes in port";
  }
  return "not an IPv4 or IPv6 address (e.g. 10.0.0.3, fd00::3)";
}

}  // namespace

Status read_proxy_scope(ParamReader& in, v1::TcpScope& scope) {
  CHAOS_ASSIGN_OR_RETURN(auto port, in.unsigned_int("port", 65535));
  if (!port) return in.missing("port");
  if (*port == 0) return in.error("port", "must be 1..65535");
  scope.set_port(static_cast<uint32_t>(*port));
  CHAOS_ASSIGN_OR_RETURN(auto address, in.text("address"));
  if (address) {
    if (const std::string problem = proxy_spec_address_problem(*address); !problem.empty()) {
      return in.error("address", problem);
    }
    scope.set_address(*address);
  }
  CHAOS_ASSIGN_OR_RETURN(auto origin, in.choice("origin", {"local", "remote", "any"}));
  if (origin) scope.set_origin(static_cast<v1::TcpScope::Origin>(*origin + 1));
  CHAOS_ASSIGN_OR_RETURN(auto reset_existing, in.choice("reset_existing", {"false", "true"}));
  scope.set_reset_existing(reset_existing.value_or(0) == 1);
  return {};
}

Status build_http_abort(ParamReader& in, v1::FaultSpec& spec) {
  auto& abort = *spec.mutable_http_abort();
  CHAOS_RETURN_IF_ERROR(read_proxy_scope(in, *abort.mutable_scope()));
  CHAOS_RETURN_IF_ERROR(read_http_match(in, *abort.mutable_match()));
  CHAOS_ASSIGN_OR_RETURN(auto status, in.unsigned_int("status", 599));
  if (!status) return in.missing("status");
  if (*status < 100) return in.error("status", "must be 100..599");
  abort.set_status(static_cast<uint32_t>(*status));
  CHAOS_ASSIGN_OR_RETURN(auto body, in.text("body"));
  if (body && body->size() > kProxySpecMaxBody) return in.error("body", "at most 64 KiB");
  abort.set_body(body.value_or(""));
  double percent = 0;
  CHAOS_RETURN_IF_ERROR(proxy_spec_percent(in, percent));
  abort.set_percent(percent);
  return {};
}

Status build_http_delay(ParamReader& in, v1::FaultSpec& spec) {
  auto& delay = *spec.mutable_http_delay();
  CHAOS_RETURN_IF_ERROR(read_proxy_scope(in, *delay.mutable_scope()));
  CHAOS_RETURN_IF_ERROR(read_http_match(in, *delay.mutable_match()));
  CHAOS_RETURN_IF_ERROR(proxy_spec_delay(in, delay.mutable_delay()));
  CHAOS_ASSIGN_OR_RETURN(auto on, in.choice("on", {"request", "response"}));
  delay.set_response(on.value_or(0) == 1);
  double percent = 0;
  CHAOS_RETURN_IF_ERROR(proxy_spec_percent(in, percent));
  delay.set_percent(percent);
  return {};
}

Status build_http_headers(ParamReader& in, v1::FaultSpec& spec) {
  auto& headers = *spec.mutable_http_headers();
  CHAOS_RETURN_IF_ERROR(read_proxy_scope(in, *headers.mutable_scope()));
  CHAOS_RETURN_IF_ERROR(read_http_match(in, *headers.mutable_match()));
  CHAOS_RETURN_IF_ERROR(read_http_headers(in, "request_headers", *headers.mutable_request_headers()));
  CHAOS_RETURN_IF_ERROR(read_http_headers(in, "response_headers", *headers.mutable_response_headers()));
  if (headers.request_headers_size() == 0 && headers.response_headers_size() == 0) {
    return in.missing("request_headers");
  }
  double percent = 0;
  CHAOS_RETURN_IF_ERROR(proxy_spec_percent(in, percent));
  headers.set_percent(percent);
  return {};
}

Status build_nats_delay(ParamReader& in, v1::FaultSpec& spec) {
  auto& delay = *spec.mutable_nats_delay();
  CHAOS_RETURN_IF_ERROR(read_proxy_scope(in, *delay.mutable_scope()));
  CHAOS_RETURN_IF_ERROR(read_nats_match(in, *delay.mutable_match(), *delay.mutable_limits()));
  CHAOS_RETURN_IF_ERROR(proxy_spec_delay(in, delay.mutable_delay()));
  double percent = 0;
  CHAOS_RETURN_IF_ERROR(proxy_spec_percent(in, percent));
  delay.set_percent(percent);
  return {};
}

Status build_nats_drop(ParamReader& in, v1::FaultSpec& spec) {
  auto& drop = *spec.mutable_nats_drop();
  CHAOS_RETURN_IF_ERROR(read_proxy_scope(in, *drop.mutable_scope()));
  CHAOS_RETURN_IF_ERROR(read_nats_match(in, *drop.mutable_match(), *drop.mutable_limits()));
  CHAOS_ASSIGN_OR_RETURN(auto error, in.text("error"));
  if (error && (error->size() > kProxySpecMaxErrorText || !proxy_spec_is_printable(*error, true) ||
                error->find('\'') != std::string::npos)) {
    return in.error("error", "printable text without quotes, at most 256 characters");
  }
  drop.set_error(error.value_or(""));
  double percent = 0;
  CHAOS_RETURN_IF_ERROR(proxy_spec_percent(in, percent));
  drop.set_percent(percent);
  return {};
}

}  // namespace chaos::orchestrator
