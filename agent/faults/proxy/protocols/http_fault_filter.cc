#include "agent/faults/proxy/protocols/http_fault_filter.h"

#include "agent/proto_convert.h"

namespace chaos::agent::proxy {

namespace {

// Below the parser's own bound of 1024 awaited responses, so the filter
// falls back to pass-through first, where it can flush both directions.
constexpr std::size_t kHttpFilterMaxSlots = 1000;
constexpr std::size_t kHttpFilterMaxMethod = 32;

char http_filter_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool http_filter_iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (http_filter_lower(a[i]) != http_filter_lower(b[i])) return false;
  }
  return true;
}

bool http_filter_is_token(std::string_view text) {
  static constexpr std::string_view kSpecials = "!#$%&'*+-.^_`|~";
  if (text.empty()) return false;
  for (char c : text) {
    const bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    if (!alnum && kSpecials.find(c) == std::string_view::npos) return false;
  }
  return true;
}

bool http_filter_is_value(std::string_view text) {
  for (char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if ((byte < 0x20 && c != '\t') || byte == 0x7f) return false;
  }
  return true;
}

const char* http_reason_phrase(int status) {
  switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "Injected Fault";
  }
}

// The head with `headers` set: lines of headers with the same names are
// left out, the new ones go before the empty line; every other byte stays.
std::string http_with_headers(const std::string& raw, const std::vector<std::pair<std::string, std::string>>& headers) {
  std::string out;
  out.reserve(raw.size() + 64 * headers.size());
  std::size_t start = 0;
  bool first = true;
  while (start < raw.size()) {
    std::size_t newline = raw.find('\n', start);
    if (newline == std::string::npos) newline = raw.size() - 1;
    const std::string_view line(raw.data() + start, newline + 1 - start);
    const bool empty = line == "\r\n" || line == "\n";
    if (empty) {
      for (const auto& [name, value] : headers) out += name + ": " + value + "\r\n";
      out += line;
      break;
    }
    bool replaced = false;
    if (!first) {
      const auto colon = line.find(':');
      for (const auto& header : headers) {
        if (colon != std::string_view::npos && http_filter_iequals(line.substr(0, colon), header.first)) {
          replaced = true;
        }
      }
    }
    if (!replaced) out += line;
    first = false;
    start = newline + 1;
  }
  return out;
}

Status http_check_headers(const google::protobuf::RepeatedPtrField<v1::HttpHeader>& headers, const std::string& field,
                          std::vector<std::pair<std::string, std::string>>& out) {
  if (static_cast<std::size_t>(headers.size()) > kHttpFaultMaxHeaders) {
    return invalid_argument(field + ": at most " + std::to_string(kHttpFaultMaxHeaders) + " headers");
  }
  for (int i = 0; i < headers.size(); ++i) {
    const std::string at = field + "[" + std::to_string(i) + "]";
    const auto& name = headers[i].name();
    if (!http_filter_is_token(name) || name.size() > kHttpFaultMaxHeaderName) {
      return invalid_argument(at + ".name: an HTTP token of 1.." + std::to_string(kHttpFaultMaxHeaderName) +
                              " characters");
    }
    // These frame the message: changing them would desynchronise the
    // parsers from the peers.
    if (http_filter_iequals(name, "Content-Length") || http_filter_iequals(name, "Transfer-Encoding")) {
      return invalid_argument(at + ".name: " + name + " cannot be injected (it frames the message)");
    }
    if (headers[i].value().size() > kHttpFaultMaxHeaderValue || !http_filter_is_value(headers[i].value())) {
      return invalid_argument(at + ".value: at most " + std::to_string(kHttpFaultMaxHeaderValue) +
                              " characters, no line breaks or control characters");
    }
    out.emplace_back(name, headers[i].value());
  }
  return {};
}

StatusOr<HttpFaultConfig> http_common_config(const v1::HttpRequestMatch& match, double percent,
                                             const std::string& prefix) {
  HttpFaultConfig config;
  if (!match.method().empty() &&
      (!http_filter_is_token(match.method()) || match.method().size() > kHttpFilterMaxMethod)) {
    return invalid_argument(prefix + ".match.method: an HTTP method such as GET");
  }
  config.match.method = match.method();
  if (match.path().size() > kHttpFaultMaxPathGlob) {
    return invalid_argument(prefix + ".match.path: at most " + std::to_string(kHttpFaultMaxPathGlob) + " characters");
  }
  for (char c : match.path()) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte <= 0x20 || byte >= 0x7f) return invalid_argument(prefix + ".match.path: printable ASCII without spaces");
  }
  config.match.path_glob = match.path();
  if (!match.header().empty() &&
      (!http_filter_is_token(match.header()) || match.header().size() > kHttpFaultMaxHeaderName)) {
    return invalid_argument(prefix + ".match.header: an HTTP header name");
  }
  if (match.header().empty() && !match.header_value().empty()) {
    return invalid_argument(prefix + ".match.header_value: needs match.header");
  }
  if (match.header_value().size() > kHttpFaultMaxHeaderValue || !http_filter_is_value(match.header_value())) {
    return invalid_argument(prefix + ".match.header_value: at most " + std::to_string(kHttpFaultMaxHeaderValue) +
                            " characters, no control characters");
  }
  config.match.header = match.header();
  if (!match.header_value().empty()) config.match.header_value = match.header_value();
  if (!(percent >= 0 && percent <= 100)) return invalid_argument(prefix + ".percent: must be 0..100");
  config.percent = percent;
  return config;
}

}  // namespace

bool http_path_glob_matches(std::string_view glob, std::string_view path) {
  // Greedy with one backtrack point: linear in practice, at worst
  // glob x path steps, both bounded.
  std::size_t g = 0, p = 0;
  std::size_t star = std::string_view::npos, star_p = 0;
  while (p < path.size()) {
    if (g < glob.size() && (glob[g] == '?' || (glob[g] != '*' && glob[g] == path[p]))) {
      ++g;
      ++p;
    } else if (g < glob.size() && glob[g] == '*') {
      star = g++;
      star_p = p;
    } else if (star != std::string_view::npos) {
      g = star + 1;
      p = ++star_p;
    } else {
      return false;
    }
  }
  while (g < glob.size() && glob[g] == '*') ++g;
  return g == glob.size();
}

bool HttpRequestMatcher::matches(const HttpHead& request) const {
  if (!method.empty() && request.method != method) return false;
  if (!path_glob.empty() && !http_path_glob_matches(path_glob, request.path)) return false;
  if (header.empty()) return true;
  for (const auto& [name, value] : request.headers) {
    if (http_filter_iequals(name, header) && (!header_value || value == *header_value)) return true;
  }
  return false;
}

void HttpFaultCounters::note_pass_through(const std::string& reason) {
  pass_through_connections.fetch_add(1, std::memory_order_relaxed);
  std::lock_guard<std::mutex> lock(mutex_);
  last_reason_ = reason;
}

std::string HttpFaultCounters::last_pass_through_reason() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return last_reason_;
}

std::string http_abort_response(int status, const std::string& body, bool head_request, bool keep_alive) {
  std::string out = "HTTP/1.1 " + std::to_string(status) + " " + http_reason_phrase(status) + "\r\n";
  const bool bodyless_status = status < 200 || status == 204 || status == 304;
  if (!bodyless_status) {
    if (!body.empty()) out += "Content-Type: text/plain; charset=utf-8\r\n";
    out += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  }
  out += keep_alive ? "Connection: keep-alive\r\n\r\n" : "Connection: close\r\n\r\n";
  if (!bodyless_status && !head_request) out += body;
  return out;
}

HttpFaultFilter::HttpFaultFilter(std::shared_ptr<const HttpFaultConfig> config,
                                 std::shared_ptr<HttpFaultCounters> counters,
                                 std::shared_ptr<ProtocolPercentSource> random)
    : config_(std::move(config)),
      counters_(std::move(counters)),
      random_(std::move(random)),
      requests_(Http1Parser::Role::kRequests, config_->limits),
      responses_(Http1Parser::Role::kResponses, config_->limits) {}

void HttpFaultFilter::start_pass_through(std::string reason) {
  if (passing_through_) return;
  passing_through_ = true;
  reason_ = std::move(reason);
  if (reason_.rfind("TLS", 0) == 0) counters_->tls_connections.fetch_add(1, std::memory_order_relaxed);
  counters_->note_pass_through(reason_);
  for (const auto& slot : slots_) {
    if (slot.answered_here) counters_->answers_lost.fetch_add(1, std::memory_order_relaxed);
  }
  slots_.clear();
}

bool HttpFaultFilter::passes_through(Direction from) const noexcept {
  const bool from_client = from == Direction::kClientToServer;
  const Http1Parser& parser = from_client ? requests_ : responses_;
  return passing_through_ && parser.buffered() == 0 && !(closing_ && from_client);
}

void HttpFaultFilter::forward(std::string bytes, Duration delay, FilterVerdict& verdict) {
  if (bytes.empty()) return;
  if (delay == Duration::zero() && !verdict.forward.empty() && verdict.forward.back().delay == Duration::zero()) {
    verdict.forward.back().bytes += bytes;
    return;
  }
  verdict.forward.push_back(Emit{std::move(bytes), delay, /*hold_order=*/true});
}

void HttpFaultFilter::answer_ready(std::string& out, FilterVerdict& verdict) {
  while (!slots_.empty() && slots_.front().answered_here && !closing_) {
    out += slots_.front().answer;
    if (slots_.front().close_after) {
      closing_ = true;
      verdict.close = CloseAction::kClose;
    }
    slots_.pop_front();
  }
}

void HttpFaultFilter::on_request_events(std::vector<HttpEvent>& events, FilterVerdict& verdict) {
  for (auto& event : events) {
    if (passing_through_ || event.type == HttpEventType::kPassThrough) {
      if (event.type == HttpEventType::kPassThrough) start_pass_through(requests_.pass_through_reason());
      forward(std::move(event.bytes), Duration::zero(), verdict);
      continue;
    }
    if (closing_) continue;  // after an answer with Connection: close
    switch (event.type) {
      case HttpEventType::kHead: {
        if (slots_.size() >= kHttpFilterMaxSlots) {
          start_pass_through("more than " + std::to_string(kHttpFilterMaxSlots) + " requests await a response");
          forward(std::move(event.bytes), Duration::zero(), verdict);
          break;
        }
        counters_->requests_seen.fetch_add(1, std::memory_order_relaxed);
        const HttpHead& head = event.head;
        Slot slot;
        fate_ = RequestFate::kForward;
        const bool hit = config_->match.matches(head) && protocol_percent_hit(config_->percent, *random_);
        if (hit) counters_->requests_matched.fetch_add(1, std::memory_order_relaxed);
        if (hit && config_->action == HttpFaultAction::kAbort) {
          // A client that sent "Expect" may or may not send the body after
          // a final answer: only closing keeps both sides in step.
          const bool keep_alive = head.keep_alive() && head.header("Expect") == nullptr;
          slot.answered_here = true;
          slot.answer = http_abort_response(config_->status, config_->body, head.method == "HEAD", keep_alive);
          slot.close_after = !keep_alive;
          fate_ = RequestFate::kDrop;
          counters_->requests_aborted.fetch_add(1, std::memory_order_relaxed);
        } else if (hit && config_->action == HttpFaultAction::kDelay && !config_->delay_response) {
          fate_ = RequestFate::kDelay;
          counters_->requests_delayed.fetch_add(1, std::memory_order_relaxed);
          forward(std::move(event.bytes), config_->delay, verdict);
        } else if (hit && config_->action == HttpFaultAction::kHeaders && !config_->request_headers.empty()) {
          counters_->requests_rewritten.fetch_add(1, std::memory_order_relaxed);
          forward(http_with_headers(head.raw, config_->request_headers), Duration::zero(), verdict);
        } else {
          forward(std::move(event.bytes), Duration::zero(), verdict);
        }
        if (hit && config_->action == HttpFaultAction::kDelay && config_->delay_response) slot.delay_response = true;
        if (hit && config_->action == HttpFaultAction::kHeaders && !config_->response_headers.empty()) {
          slot.rewrite_response = true;
        }
        if (!slot.answered_here) {
          std::vector<HttpEvent> unused;  // cannot overflow below kHttpFilterMaxSlots
          responses_.expect_response_to(head.method, unused);
        }
        slots_.push_back(std::move(slot));
        answer_ready(verdict.reply, verdict);
        break;
      }
      case HttpEventType::kBody:
        if (fate_ != RequestFate::kDrop) forward(std::move(event.bytes), Duration::zero(), verdict);
        break;
      case HttpEventType::kEnd: fate_ = RequestFate::kForward; break;
      case HttpEventType::kBetween: forward(std::move(event.bytes), Duration::zero(), verdict); break;
      case HttpEventType::kPassThrough: break;  // handled above
    }
  }
}

void HttpFaultFilter::on_response_events(std::vector<HttpEvent>& events, FilterVerdict& verdict) {
  for (auto& event : events) {
    if (passing_through_ || event.type == HttpEventType::kPassThrough) {
      if (event.type == HttpEventType::kPassThrough) start_pass_through(responses_.pass_through_reason());
      forward(std::move(event.bytes), Duration::zero(), verdict);
      continue;
    }
    switch (event.type) {
      case HttpEventType::kHead: {
        interim_response_ = event.head.status < 200 && event.head.status != 101;
        const Slot* slot = (!slots_.empty() && !interim_response_) ? &slots_.front() : nullptr;
        std::string bytes = std::move(event.bytes);
        if (slot != nullptr && slot->rewrite_response) {
          bytes = http_with_headers(event.head.raw, config_->response_headers);
          counters_->responses_rewritten.fetch_add(1, std::memory_order_relaxed);
        }
        Duration delay = Duration::zero();
        if (slot != nullptr && slot->delay_response) {
          delay = config_->delay;
          counters_->responses_delayed.fetch_add(1, std::memory_order_relaxed);
        }
        forward(std::move(bytes), delay, verdict);
        break;
      }
      case HttpEventType::kBody:
      case HttpEventType::kBetween: forward(std::move(event.bytes), Duration::zero(), verdict); break;
      case HttpEventType::kEnd: {
        if (!interim_response_ && !slots_.empty()) slots_.pop_front();
        interim_response_ = false;
        std::string answers;
        answer_ready(answers, verdict);
        forward(std::move(answers), Duration::zero(), verdict);
        break;
      }
      case HttpEventType::kPassThrough: break;  // handled above
    }
  }
}

FilterVerdict HttpFaultFilter::on_bytes(Direction from, std::string_view input, SteadyTime) {
  FilterVerdict verdict;
  const bool from_client = from == Direction::kClientToServer;
  if (from_client && !seen_client_byte_ && !input.empty()) {
    seen_client_byte_ = true;
    if (static_cast<unsigned char>(input[0]) == 0x16) {
      start_pass_through("TLS: cannot see inside (the client starts a TLS handshake)");
    }
  }
  Http1Parser& parser = from_client ? requests_ : responses_;
  std::vector<HttpEvent> events;
  if (passing_through_) parser.pass_through(reason_, events);
  if (closing_ && from_client) return verdict;
  parser.feed(input, events);
  if (from_client) {
    on_request_events(events, verdict);
  } else {
    on_response_events(events, verdict);
  }
  return verdict;
}

FilterVerdict HttpFaultFilter::on_end(Direction from, SteadyTime) {
  FilterVerdict verdict;
  const bool from_client = from == Direction::kClientToServer;
  Http1Parser& parser = from_client ? requests_ : responses_;
  std::vector<HttpEvent> events;
  if (passing_through_) parser.pass_through(reason_, events);
  parser.finish(events);
  if (from_client) {
    on_request_events(events, verdict);
  } else {
    on_response_events(events, verdict);
  }
  return verdict;
}

HttpFilterFactory::HttpFilterFactory(HttpFaultConfig config, ProtocolPercentSource random)
    : config_(std::make_shared<const HttpFaultConfig>(std::move(config))),
      random_(std::make_shared<ProtocolPercentSource>(std::move(random))),
      counters_(std::make_shared<HttpFaultCounters>()) {}

std::unique_ptr<StreamFilter> HttpFilterFactory::make(const ConnectionInfo&) {
  counters_->connections.fetch_add(1, std::memory_order_relaxed);
  return std::make_unique<HttpFaultFilter>(config_, counters_, random_);
}

StatusOr<HttpFaultConfig> http_fault_config(const v1::HttpAbort& spec) {
  CHAOS_ASSIGN_OR_RETURN(auto config, http_common_config(spec.match(), spec.percent(), "http_abort"));
  config.action = HttpFaultAction::kAbort;
  if (spec.status() < 100 || spec.status() > 599) return invalid_argument("http_abort.status: must be 100..599");
  config.status = static_cast<int>(spec.status());
  if (spec.body().size() > kHttpFaultMaxBody) {
    return invalid_argument("http_abort.body: at most " + std::to_string(kHttpFaultMaxBody) + " bytes");
  }
  config.body = spec.body();
  return config;
}

StatusOr<HttpFaultConfig> http_fault_config(const v1::HttpDelay& spec) {
  CHAOS_ASSIGN_OR_RETURN(auto config, http_common_config(spec.match(), spec.percent(), "http_delay"));
  config.action = HttpFaultAction::kDelay;
  CHAOS_ASSIGN_OR_RETURN(config.delay, from_proto_duration(spec.delay(), "http_delay.delay"));
  if (config.delay <= Duration::zero() || config.delay > kHttpFaultMaxDelay) {
    return invalid_argument("http_delay.delay: must be above 0 and at most 10m");
  }
  config.delay_response = spec.response();
  return config;
}

StatusOr<HttpFaultConfig> http_fault_config(const v1::HttpHeaders& spec) {
  CHAOS_ASSIGN_OR_RETURN(auto config, http_common_config(spec.match(), spec.percent(), "http_headers"));
  config.action = HttpFaultAction::kHeaders;
  CHAOS_RETURN_IF_ERROR(http_check_headers(spec.request_headers(), "http_headers.request_headers",
                                           config.request_headers));
  CHAOS_RETURN_IF_ERROR(http_check_headers(spec.response_headers(), "http_headers.response_headers",
                                           config.response_headers));
  if (config.request_headers.empty() && config.response_headers.empty()) {
    return invalid_argument("http_headers.request_headers: at least one request or response header is required");
  }
  return config;
}

StatusOr<std::unique_ptr<HttpFilterFactory>> make_http_filter_factory(const v1::HttpAbort& spec,
                                                                       ProtocolPercentSource random) {
  CHAOS_ASSIGN_OR_RETURN(auto config, http_fault_config(spec));
  return std::make_unique<HttpFilterFactory>(std::move(config), std::move(random));
}

StatusOr<std::unique_ptr<HttpFilterFactory>> make_http_filter_factory(const v1::HttpDelay& spec,
                                                                       ProtocolPercentSource random) {
  CHAOS_ASSIGN_OR_RETURN(auto config, http_fault_config(spec));
  return std::make_unique<HttpFilterFactory>(std::move(config), std::move(random));
}

StatusOr<std::unique_ptr<HttpFilterFactory>> make_http_filter_factory(const v1::HttpHeaders& spec,
                                                                       ProtocolPercentSource random) {
  CHAOS_ASSIGN_OR_RETURN(auto config, http_fault_config(spec));
  return std::make_unique<HttpFilterFactory>(std::move(config), std::move(random));
}

}  // namespace chaos::agent::proxy
