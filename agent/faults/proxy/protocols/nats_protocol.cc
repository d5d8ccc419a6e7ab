#include "agent/faults/proxy/protocols/nats_protocol.h"

#include <nlohmann/json.hpp>

namespace chaos::agent::proxy {

namespace {

bool nats_is_blank(char c) { return c == ' ' || c == '\t'; }

std::vector<std::string_view> nats_split_args(std::string_view line) {
  std::vector<std::string_view> args;
  std::size_t at = 0;
  while (at < line.size() && args.size() < 8) {  // more than any op takes: rejected below
    while (at < line.size() && nats_is_blank(line[at])) ++at;
    if (at == line.size()) break;
    std::size_t end = at;
    while (end < line.size() && !nats_is_blank(line[end])) ++end;
    args.push_back(line.substr(at, end - at));
    at = end;
  }
  return args;
}

std::string nats_upper(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return out;
}

// A size field: decimal digits only, at most `max` (so it cannot overflow).
bool nats_parse_size(std::string_view text, std::size_t max, std::size_t& out) {
  if (text.empty() || text.size() > 10) return false;
  std::size_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + static_cast<std::size_t>(c - '0');
  }
  if (value > max) return false;
  out = value;
  return true;
}

// The text after the op and the blanks that follow it.
std::string_view nats_rest_after_op(std::string_view line) {
  std::size_t at = 0;
  while (at < line.size() && !nats_is_blank(line[at])) ++at;
  while (at < line.size() && nats_is_blank(line[at])) ++at;
  return line.substr(at);
}

bool nats_info_requires_tls(std::string_view json_text, bool& parsed) {
  const auto info = nlohmann::json::parse(json_text.begin(), json_text.end(), nullptr, /*allow_exceptions=*/false);
  parsed = info.is_object();
  if (!parsed) return false;
  const auto field = info.find("tls_required");
  return field != info.end() && field->is_boolean() && field->get<bool>();
}

}  // namespace

Status validate_nats_limits(const NatsLimits& limits) {
  if (limits.max_control_line < 64 || limits.max_control_line > kNatsMaxControlLineCeiling) {
    return invalid_argument("max_control_line: must be 64.." + std::to_string(kNatsMaxControlLineCeiling) +
                            " bytes, not " + std::to_string(limits.max_control_line));
  }
  if (limits.max_payload < 1 || limits.max_payload > kNatsMaxPayloadCeiling) {
    return invalid_argument("max_payload: must be 1.." + std::to_string(kNatsMaxPayloadCeiling) + " bytes, not " +
                            std::to_string(limits.max_payload));
  }
  return {};
}

const char* nats_op_name(NatsOp op) {
  switch (op) {
    case NatsOp::kInfo: return "INFO";
    case NatsOp::kConnect: return "CONNECT";
    case NatsOp::kPub: return "PUB";
    case NatsOp::kHpub: return "HPUB";
    case NatsOp::kSub: return "SUB";
    case NatsOp::kUnsub: return "UNSUB";
    case NatsOp::kMsg: return "MSG";
    case NatsOp::kHmsg: return "HMSG";
    case NatsOp::kPing: return "PING";
    case NatsOp::kPong: return "PONG";
    case NatsOp::kOk: return "+OK";
    case NatsOp::kErr: return "-ERR";
  }
  return "?";
}

NatsSplitter::NatsSplitter(NatsLimits limits) : limits_(limits) {}

void NatsSplitter::pass_through(std::string reason, Output& out) {
  if (passing_through_) return;
  passing_through_ = true;
  reason_ = std::move(reason);
  out.pass_through.append(buffer_, consumed_, std::string::npos);
  buffer_.clear();
  buffer_.shrink_to_fit();
  consumed_ = 0;
  scanned_ = 0;
}

void NatsSplitter::feed(std::string_view input, Output& out) {
  if (passing_through_) {
    out.pass_through.append(input);
    return;
  }
  buffer_.append(input);
  while (true) {
    NatsMessage message;
    const Step step = next(message);
    if (step == Step::kNeedMore) break;
    if (step == Step::kFailed) {
      pass_through(std::move(failure_), out);
      return;
    }
    out.messages.push_back(std::move(message));
  }
  compact();
}

void NatsSplitter::finish(Output& out) {
  if (passing_through_ || buffered() == 0) return;
  pass_through("the stream ended inside a message", out);
}

void NatsSplitter::compact() {
  if (consumed_ == 0) return;
  buffer_.erase(0, consumed_);
  consumed_ = 0;
  // A large message leaves its capacity behind: given back, or one big
  // message would keep megabytes for the rest of a long-lived connection,
  // outside what buffered() (and the agent's proxy byte budget) counts.
  if (buffer_.capacity() > kNatsKeptBufferCapacity && buffer_.size() <= buffer_.capacity() / 4) {
    buffer_.shrink_to_fit();
  }
}

NatsSplitter::Step NatsSplitter::next(NatsMessage& message) {
  const std::string_view pending = std::string_view(buffer_).substr(consumed_);
  if (pending.empty()) return Step::kNeedMore;
  const std::size_t newline = pending.find('\n', scanned_);
  // The line end is "\r\n"; nats-server also takes a bare '\n'.
  if (newline == std::string_view::npos) {
    scanned_ = pending.size();
    if (pending.size() > limits_.max_control_line + 1) {
      failure_ = "control line longer than " + std::to_string(limits_.max_control_line) + " bytes";
      return Step::kFailed;
    }
    return Step::kNeedMore;
  }
  std::string_view line = pending.substr(0, newline);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  const std::size_t line_end = newline + 1;
  if (line.size() > limits_.max_control_line) {
    failure_ = "control line longer than " + std::to_string(limits_.max_control_line) + " bytes";
    return Step::kFailed;
  }
  const auto args = nats_split_args(line);
  if (args.empty()) {
    failure_ = "empty control line";
    return Step::kFailed;
  }
  const std::string op = nats_upper(args[0]);
  const std::size_t count = args.size() - 1;
  std::size_t payload = 0;
  bool has_payload = false;
  auto fail = [&](const std::string& why) {
    failure_ = std::string(why);
    return Step::kFailed;
  };
  auto size_arg = [&](std::string_view text, std::size_t& out) {
    return nats_parse_size(text, limits_.max_payload, out);
  };
  if (op == "PUB" && (count == 2 || count == 3)) {
    message.op = NatsOp::kPub;
    message.subject = std::string(args[1]);
    if (count == 3) message.reply = std::string(args[2]);
    if (!size_arg(args[count], payload)) return fail("PUB size is not a number up to max_payload");
    has_payload = true;
  } else if (op == "HPUB" && (count == 3 || count == 4)) {
    message.op = NatsOp::kHpub;
    message.subject = std::string(args[1]);
    if (count == 4) message.reply = std::string(args[2]);
    std::size_t headers = 0;
    if (!size_arg(args[count - 1], headers) || !size_arg(args[count], payload) || headers > payload) {
      return fail("HPUB sizes are not numbers up to max_payload with headers <= total");
    }
    has_payload = true;
  } else if (op == "MSG" && (count == 3 || count == 4)) {
    message.op = NatsOp::kMsg;
    message.subject = std::string(args[1]);
    if (count == 4) message.reply = std::string(args[3]);
    if (!size_arg(args[count], payload)) return fail("MSG size is not a number up to max_payload");
    has_payload = true;
  } else if (op == "HMSG" && (count == 4 || count == 5)) {
    message.op = NatsOp::kHmsg;
    message.subject = std::string(args[1]);
    if (count == 5) message.reply = std::string(args[3]);
    std::size_t headers = 0;
    if (!size_arg(args[count - 1], headers) || !size_arg(args[count], payload) || headers > payload) {
      return fail("HMSG sizes are not numbers up to max_payload with headers <= total");
    }
    has_payload = true;
  } else if (op == "SUB" && (count == 2 || count == 3)) {
    message.op = NatsOp::kSub;
    message.subject = std::string(args[1]);
  } else if (op == "UNSUB" && (count == 1 || count == 2)) {
    message.op = NatsOp::kUnsub;
  } else if (op == "PING" && count == 0) {
    message.op = NatsOp::kPing;
  } else if (op == "PONG" && count == 0) {
    message.op = NatsOp::kPong;
  } else if (op == "+OK" && count == 0) {
    message.op = NatsOp::kOk;
  } else if (op == "-ERR") {
    message.op = NatsOp::kErr;
    message.argument = std::string(nats_rest_after_op(line));
  } else if ((op == "INFO" || op == "CONNECT") && count >= 1) {
    message.op = op == "INFO" ? NatsOp::kInfo : NatsOp::kConnect;
    message.argument = std::string(nats_rest_after_op(line));
    if (message.op == NatsOp::kInfo) {
      bool parsed = false;
      message.tls_required = nats_info_requires_tls(message.argument, parsed);
      // Without the INFO we cannot know whether TLS follows.
      if (!parsed) return fail("INFO is not a JSON object");
    }
  } else {
    // Names at most 16 printable bytes of the op: it may be binary (TLS).
    std::string shown;
    for (char c : args[0].substr(0, 16)) shown += (c >= 0x20 && c < 0x7f) ? c : '?';
    return fail("not a NATS protocol line (op '" + shown + "' with " + std::to_string(count) + " arguments)");
  }
  std::size_t total = line_end;
  if (has_payload) {
    total += payload + 2;
    if (pending.size() < total) return Step::kNeedMore;
    if (pending[total - 2] != '\r' || pending[total - 1] != '\n') {
      return fail(std::string(nats_op_name(message.op)) + " payload is not followed by \\r\\n");
    }
  }
  message.bytes = std::string(pending.substr(0, total));
  consumed_ += total;
  scanned_ = 0;
  return Step::kMessage;
}

}  // namespace chaos::agent::proxy
