#include "agent/faults/proxy/protocols/nats_fault_filter.h"

#include "agent/proto_convert.h"

namespace chaos::agent::proxy {

namespace {

bool nats_carries_subject(NatsOp op) {
  return op == NatsOp::kPub || op == NatsOp::kHpub || op == NatsOp::kMsg || op == NatsOp::kHmsg;
}

std::string nats_error_line(const std::string& text) { return "-ERR '" + text + "'\r\n"; }

// Whole messages may overtake a delayed one (only that message is late);
// bytes of a connection passed through must keep the stream's order, or a
// delayed message released later could land inside one of them.
void nats_append_plain(std::string& plain, FilterVerdict& verdict, bool whole_messages) {
  if (plain.empty()) return;
  verdict.forward.push_back(Emit{std::move(plain), Duration{0}, /*hold_order=*/!whole_messages});
  plain.clear();
}

Status nats_check_error_text(const std::string& text, const std::string& field) {
  if (text.size() > kNatsFaultMaxErrorText) {
    return invalid_argument(field + ": at most " + std::to_string(kNatsFaultMaxErrorText) + " characters");
  }
  for (char c : text) {
    // The text goes inside '...' on one protocol line.
    if (c < 0x20 || c > 0x7e || c == '\'') {
      return invalid_argument(field + ": printable ASCII only, without quotes or line breaks");
    }
  }
  return {};
}

StatusOr<NatsFaultConfig> nats_common_config(const v1::NatsMessageMatch& match, const v1::NatsParserLimits& limits,
                                             double percent, const std::string& prefix) {
  NatsFaultConfig config;
  if (match.subjects_size() == 0) return invalid_argument(prefix + ".match.subjects: at least one subject is required");
  if (static_cast<std::size_t>(match.subjects_size()) > kNatsFaultMaxSubjects) {
    return invalid_argument(prefix + ".match.subjects: at most " + std::to_string(kNatsFaultMaxSubjects));
  }
  for (int i = 0; i < match.subjects_size(); ++i) {
    auto pattern = NatsSubjectPattern::compile(match.subjects(i));
    if (!pattern.ok()) {
      return invalid_argument(prefix + ".match.subjects[" + std::to_string(i) + "]: " + pattern.status().message());
    }
    config.subjects.push_back(std::move(*pattern));
  }
  config.match_reply = match.match_reply();
  switch (match.flow()) {
    case v1::NatsMessageMatch::FLOW_PUBLISH: config.flow = NatsFlow::kPublish; break;
    case v1::NatsMessageMatch::FLOW_DELIVER: config.flow = NatsFlow::kDeliver; break;
    case v1::NatsMessageMatch::FLOW_UNSPECIFIED:
    case v1::NatsMessageMatch::FLOW_BOTH: config.flow = NatsFlow::kBoth; break;
    default: return invalid_argument(prefix + ".match.flow: unknown value " + std::to_string(match.flow()));
  }
  if (limits.max_control_line() != 0) config.limits.max_control_line = limits.max_control_line();
  if (limits.max_payload() != 0) config.limits.max_payload = limits.max_payload();
  const Status limits_ok = validate_nats_limits(config.limits);
  if (!limits_ok.ok()) return invalid_argument(prefix + ".limits." + limits_ok.message());
  if (!(percent >= 0 && percent <= 100)) return invalid_argument(prefix + ".percent: must be 0..100");
  return config;
}

}  // namespace

void NatsFaultCounters::note_pass_through(const std::string& reason) {
  pass_through_connections.fetch_add(1, std::memory_order_relaxed);
  std::lock_guard<std::mutex> lock(mutex_);
  last_reason_ = reason;
}

std::string NatsFaultCounters::last_pass_through_reason() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return last_reason_;
}

NatsFaultFilter::NatsFaultFilter(std::shared_ptr<const NatsFaultConfig> config,
                                 std::shared_ptr<NatsFaultCounters> counters)
    : config_(std::move(config)),
      counters_(std::move(counters)),
      from_client_(config_->limits),
      from_server_(config_->limits) {}

NatsSplitter& NatsFaultFilter::splitter(Direction from) {
  return from == Direction::kClientToServer ? from_client_ : from_server_;
}

void NatsFaultFilter::start_pass_through(std::string reason) {
  if (passing_through_) return;
  passing_through_ = true;
  reason_ = std::move(reason);
  if (reason_.rfind("TLS", 0) == 0) counters_->tls_connections.fetch_add(1, std::memory_order_relaxed);
  counters_->note_pass_through(reason_);
}

bool NatsFaultFilter::passes_through(Direction from) const noexcept {
  const NatsSplitter& side = from == Direction::kClientToServer ? from_client_ : from_server_;
  return passing_through_ && side.buffered() == 0;
}

std::size_t NatsFaultFilter::held_bytes() const noexcept { return from_client_.buffered() + from_server_.buffered(); }

FilterVerdict NatsFaultFilter::stop_holding(Direction from, SteadyTime) {
  FilterVerdict verdict;
  NatsSplitter::Output parsed;
  start_pass_through(std::string(kProxyBudgetPassThroughReason));
  splitter(from).pass_through(reason_, parsed);
  handle(from, parsed, verdict);
  return verdict;
}

bool NatsFaultFilter::matches(Direction from, const NatsMessage& message) const {
  const bool publish = message.op == NatsOp::kPub || message.op == NatsOp::kHpub;
  // A client sends PUB and a server MSG; the other way round is not the
  // protocol, and is forwarded untouched.
  if (publish != (from == Direction::kClientToServer)) return false;
  if (config_->flow == NatsFlow::kPublish && !publish) return false;
  if (config_->flow == NatsFlow::kDeliver && publish) return false;
  for (const auto& pattern : config_->subjects) {
    if (pattern.matches(message.subject)) return true;
    if (config_->match_reply && !message.reply.empty() && pattern.matches(message.reply)) return true;
  }
  return false;
}

void NatsFaultFilter::handle(Direction from, NatsSplitter::Output& parsed, FilterVerdict& verdict) {
  std::string plain;
  for (auto& message : parsed.messages) {
    if (passing_through_) {
      plain += message.bytes;
      continue;
    }
    if (message.op == NatsOp::kInfo && message.tls_required && from == Direction::kServerToClient) {
      plain += message.bytes;
      start_pass_through("TLS: cannot see inside (the server's INFO requires TLS)");
      continue;
    }
    if (!nats_carries_subject(message.op)) {
      plain += message.bytes;
      continue;
    }
    const bool in_flow = config_->flow == NatsFlow::kBoth ||
                         (config_->flow == NatsFlow::kPublish) == (from == Direction::kClientToServer);
    if (in_flow) counters_->messages_seen.fetch_add(1, std::memory_order_relaxed);
    if (!matches(from, message)) {
      plain += message.bytes;
      continue;
    }
    counters_->messages_matched.fetch_add(1, std::memory_order_relaxed);
    if (config_->action == NatsFaultAction::kDelay) {
      nats_append_plain(plain, verdict, /*whole_messages=*/true);
      verdict.forward.push_back(Emit{std::move(message.bytes), config_->delay, /*hold_order=*/false});
      counters_->messages_delayed.fetch_add(1, std::memory_order_relaxed);
      continue;
    }
    counters_->messages_dropped.fetch_add(1, std::memory_order_relaxed);
    if (!config_->error) continue;
    counters_->errors_sent.fetch_add(1, std::memory_order_relaxed);
    if (from == Direction::kClientToServer) {
      verdict.reply += nats_error_line(*config_->error);
    } else {
      plain += nats_error_line(*config_->error);  // in the delivery's place, to the client
    }
  }
  const bool whole_messages = !passing_through_ && parsed.pass_through.empty();
  plain += parsed.pass_through;
  nats_append_plain(plain, verdict, whole_messages);
}

FilterVerdict NatsFaultFilter::on_bytes(Direction from, std::string_view input, SteadyTime) {
  FilterVerdict verdict;
  NatsSplitter& side = splitter(from);
  NatsSplitter::Output parsed;
  if (from == Direction::kClientToServer && !seen_client_byte_ && !input.empty()) {
    seen_client_byte_ = true;
    // A TLS ClientHello before any INFO: the client does TLS first.
    if (static_cast<unsigned char>(input[0]) == 0x16) start_pass_through("TLS: cannot see inside (the client starts with TLS)");
  }
  if (passing_through_) side.pass_through(reason_, parsed);
  side.feed(input, parsed);
  if (side.passing_through()) start_pass_through(side.pass_through_reason());
  handle(from, parsed, verdict);
  return verdict;
}

FilterVerdict NatsFaultFilter::on_end(Direction from, SteadyTime) {
  FilterVerdict verdict;
  NatsSplitter::Output parsed;
  splitter(from).finish(parsed);
  handle(from, parsed, verdict);
  return verdict;
}

NatsFilterFactory::NatsFilterFactory(NatsFaultConfig config, double connection_percent, ProtocolPercentSource random)
    : config_(std::make_shared<const NatsFaultConfig>(std::move(config))),
      connection_percent_(connection_percent),
      random_(std::move(random)),
      counters_(std::make_shared<NatsFaultCounters>()) {}

std::unique_ptr<StreamFilter> NatsFilterFactory::make(const ConnectionInfo&) {
  counters_->connections.fetch_add(1, std::memory_order_relaxed);
  if (!protocol_percent_hit(connection_percent_, random_)) return make_protocol_untouched_filter();
  counters_->faulted_connections.fetch_add(1, std::memory_order_relaxed);
  return std::make_unique<NatsFaultFilter>(config_, counters_);
}

StatusOr<NatsFaultConfig> nats_fault_config(const v1::NatsDelay& spec) {
  CHAOS_ASSIGN_OR_RETURN(auto config, nats_common_config(spec.match(), spec.limits(), spec.percent(), "nats_delay"));
  config.action = NatsFaultAction::kDelay;
  CHAOS_ASSIGN_OR_RETURN(config.delay, from_proto_duration(spec.delay(), "nats_delay.delay"));
  if (config.delay <= Duration::zero() || config.delay > kNatsFaultMaxDelay) {
    return invalid_argument("nats_delay.delay: must be above 0 and at most 10m");
  }
  return config;
}

StatusOr<NatsFaultConfig> nats_fault_config(const v1::NatsDrop& spec) {
  CHAOS_ASSIGN_OR_RETURN(auto config, nats_common_config(spec.match(), spec.limits(), spec.percent(), "nats_drop"));
  config.action = NatsFaultAction::kDrop;
  CHAOS_RETURN_IF_ERROR(nats_check_error_text(spec.error(), "nats_drop.error"));
  if (!spec.error().empty()) config.error = spec.error();
  return config;
}

StatusOr<std::unique_ptr<NatsFilterFactory>> make_nats_filter_factory(const v1::NatsDelay& spec,
                                                                       ProtocolPercentSource random) {
  CHAOS_ASSIGN_OR_RETURN(auto config, nats_fault_config(spec));
  return std::make_unique<NatsFilterFactory>(std::move(config), spec.percent(), std::move(random));
}

StatusOr<std::unique_ptr<NatsFilterFactory>> make_nats_filter_factory(const v1::NatsDrop& spec,
                                                                       ProtocolPercentSource random) {
  CHAOS_ASSIGN_OR_RETURN(auto config, nats_fault_config(spec));
  return std::make_unique<NatsFilterFactory>(std::move(config), spec.percent(), std::move(random));
}

}  // namespace chaos::agent::proxy
