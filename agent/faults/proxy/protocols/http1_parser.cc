#include "agent/faults/proxy/protocols/http1_parser.h"

#include <cstring>

namespace chaos::agent::proxy {

namespace {

constexpr std::size_t kHttpMaxPipelinedRequests = 1024;
constexpr std::size_t kHttpMaxContentLengthDigits = 18;  // fits std::uint64_t
constexpr std::size_t kHttpMaxChunkSizeDigits = 15;

bool http_is_tchar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return c != '\0' && std::strchr("!#$%&'*+-.^_`|~", c) != nullptr;
}

bool http_is_token(std::string_view text) {
  if (text.empty()) return false;
  for (char c : text) {
    if (!http_is_tchar(c)) return false;
  }
  return true;
}

// Field values and reason phrases: no control characters but tab.
bool http_is_field_text(std::string_view text) {
  for (char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if ((byte < 0x20 && c != '\t') || byte == 0x7f) return false;
  }
  return true;
}

char http_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool http_iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (http_lower(a[i]) != http_lower(b[i])) return false;
  }
  return true;
}

std::string_view http_trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

// Calls `each` with every trimmed, non-empty element of a comma list.
template <typename Each>
void http_for_each_element(std::string_view list, Each each) {
  std::size_t start = 0;
  while (start <= list.size()) {
    std::size_t comma = list.find(',', start);
    if (comma == std::string_view::npos) comma = list.size();
    const auto element = http_trim(list.substr(start, comma - start));
    if (!element.empty()) each(element);
    start = comma + 1;
  }
}

bool http_has_element(const HttpHead& head, std::string_view name, std::string_view element) {
  bool found = false;
  for (const auto& [header, value] : head.headers) {
    if (!http_iequals(header, name)) continue;
    http_for_each_element(value, [&](std::string_view item) { found = found || http_iequals(item, element); });
  }
  return found;
}

bool http_parse_version(std::string_view text) {
  return text.size() == 8 && text.substr(0, 7) == "HTTP/1." && text[7] >= '0' && text[7] <= '9';
}

std::string http_path_of(std::string_view target) {
  if (target == "*") return "*";
  if (target.empty()) return "";
  if (target.front() != '/') {
    const auto scheme_end = target.find("://");
    if (scheme_end == std::string_view::npos) return "";  // authority form (CONNECT)
    const auto slash = target.find('/', scheme_end + 3);
    target = slash == std::string_view::npos ? std::string_view("/") : target.substr(slash);
  }
  const auto end = target.find_first_of("?#");
  return std::string(target.substr(0, end));
}

bool http_parse_request_line(std::string_view line, HttpHead& head) {
  const auto first = line.find(' ');
  if (first == std::string_view::npos) return false;
  const auto second = line.find(' ', first + 1);
  if (second == std::string_view::npos) return false;
  const auto method = line.substr(0, first);
  const auto target = line.substr(first + 1, second - first - 1);
  const auto version = line.substr(second + 1);
  if (!http_is_token(method) || target.empty() || !http_parse_version(version)) return false;
  for (char c : target) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte <= 0x20 || byte >= 0x7f) return false;
  }
  head.request = true;
  head.method = std::string(method);
  head.target = std::string(target);
  head.path = http_path_of(target);
  head.version = std::string(version);
  return true;
}

bool http_parse_status_line(std::string_view line, HttpHead& head) {
  if (line.size() < 12 || !http_parse_version(line.substr(0, 8)) || line[8] != ' ') return false;
  int status = 0;
  for (std::size_t i = 9; i < 12; ++i) {
    if (line[i] < '0' || line[i] > '9') return false;
    status = status * 10 + (line[i] - '0');
  }
  if (status < 100) return false;
  if (line.size() > 12 && (line[12] != ' ' || !http_is_field_text(line.substr(13)))) return false;
  head.request = false;
  head.status = status;
  head.version = std::string(line.substr(0, 8));
  return true;
}

// The head's lines (without line ends): the start line, then the headers.
std::vector<std::string_view> http_head_lines(std::string_view raw) {
  std::vector<std::string_view> lines;
  std::size_t start = 0;
  while (start < raw.size()) {
    const auto newline = raw.find('\n', start);
    auto line = raw.substr(start, newline - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) break;
    lines.push_back(line);
    start = newline + 1;
  }
  return lines;
}

}  // namespace

const std::string* HttpHead::header(std::string_view name) const {
  for (const auto& [header_name, value] : headers) {
    if (http_iequals(header_name, name)) return &value;
  }
  return nullptr;
}

bool HttpHead::keep_alive() const {
  if (http_has_element(*this, "Connection", "close")) return false;
  if (version == "HTTP/1.0") return http_has_element(*this, "Connection", "keep-alive");
  return true;
}

Http1Parser::Http1Parser(Role role, HttpLimits limits) : role_(role), limits_(limits) {}

void Http1Parser::feed(std::string_view input, std::vector<HttpEvent>& out) {
  if (state_ == State::kPassThrough) {
    if (input.empty()) return;
    if (out.empty() || out.back().type != HttpEventType::kPassThrough) {
      out.push_back(HttpEvent{HttpEventType::kPassThrough, {}, {}});
    }
    out.back().bytes.append(input);
    return;
  }
  buffer_.append(input);
  while (state_ != State::kPassThrough) {
    const Step result = step(out);
    if (result == Step::kNeedMore) break;
    if (result == Step::kFailed) {
      pass_through(std::move(failure_), out);
      break;
    }
  }
  if (consumed_ > 0 && state_ != State::kPassThrough) {
    buffer_.erase(0, consumed_);
    consumed_ = 0;
  }
}

void Http1Parser::finish(std::vector<HttpEvent>& out) {
  if (state_ == State::kPassThrough) return;
  if (state_ == State::kUntilClose) {
    end_message(out);
    return;
  }
  if (state_ != State::kHead || buffered() > 0) pass_through("the stream ended inside a message", out);
}

void Http1Parser::pass_through(std::string reason, std::vector<HttpEvent>& out) {
  if (state_ == State::kPassThrough) return;
  state_ = State::kPassThrough;
  reason_ = std::move(reason);
  if (buffered() > 0) out.push_back(HttpEvent{HttpEventType::kPassThrough, buffer_.substr(consumed_), {}});
  buffer_.clear();
  buffer_.shrink_to_fit();
  consumed_ = 0;
}

void Http1Parser::expect_response_to(std::string method, std::vector<HttpEvent>& out) {
  if (request_methods_.size() >= kHttpMaxPipelinedRequests) {
    pass_through("more than " + std::to_string(kHttpMaxPipelinedRequests) + " requests await a response", out);
    return;
  }
  request_methods_.push_back(std::move(method));
}

Http1Parser::Step Http1Parser::fail(std::string reason) {
  failure_ = std::move(reason);
  return Step::kFailed;
}

void Http1Parser::emit_body(std::size_t count, std::vector<HttpEvent>& out) {
  if (count == 0) return;
  if (out.empty() || out.back().type != HttpEventType::kBody) out.push_back(HttpEvent{HttpEventType::kBody, {}, {}});
  out.back().bytes.append(buffer_, consumed_, count);
  consumed_ += count;
}

void Http1Parser::end_message(std::vector<HttpEvent>& out) {
  out.push_back(HttpEvent{HttpEventType::kEnd, {}, {}});
  state_ = State::kHead;
  head_scan_ = 0;
  head_lines_ = 0;
  remaining_ = 0;
}

Http1Parser::Step Http1Parser::step(std::vector<HttpEvent>& out) {
  const std::size_t available = buffered();
  switch (state_) {
    case State::kHead: return read_head(out);
    case State::kLengthBody:
    case State::kChunkData: {
      if (available == 0) return Step::kNeedMore;
      const auto count = static_cast<std::size_t>(std::min<std::uint64_t>(available, remaining_));
      emit_body(count, out);
      remaining_ -= count;
      if (remaining_ == 0) {
        if (state_ == State::kLengthBody) {
          end_message(out);
        } else {
          state_ = State::kChunkDataEnd;
        }
      }
      return Step::kProgress;
    }
    case State::kChunkDataEnd: {
      if (available == 0) return Step::kNeedMore;
      const char first = buffer_[consumed_];
      if (first == '\n') {
        emit_body(1, out);
      } else if (first != '\r') {
        return fail("chunk data is not followed by a line end");
      } else if (available < 2) {
        return Step::kNeedMore;
      } else if (buffer_[consumed_ + 1] != '\n') {
        return fail("chunk data is not followed by a line end");
      } else {
        emit_body(2, out);
      }
      state_ = State::kChunkLine;
      return Step::kProgress;
    }
    case State::kChunkLine: return read_chunk_line(out);
    case State::kTrailers: return read_trailers(out);
    case State::kUntilClose:
      if (available == 0) return Step::kNeedMore;
      emit_body(available, out);
      return Step::kNeedMore;
    case State::kPassThrough: return Step::kNeedMore;
  }
  return Step::kNeedMore;
}

Http1Parser::Step Http1Parser::read_head(std::vector<HttpEvent>& out) {
  const std::string_view pending = std::string_view(buffer_).substr(consumed_);
  while (true) {
    const auto newline = pending.find('\n', head_scan_);
    if (newline == std::string_view::npos) {
      if (pending.size() - head_scan_ > limits_.max_line + 1) {
        return fail("a head line is longer than " + std::to_string(limits_.max_line) + " bytes");
      }
      if (pending.size() > limits_.max_header_block) {
        return fail("the head is longer than " + std::to_string(limits_.max_header_block) + " bytes");
      }
      return Step::kNeedMore;
    }
    std::size_t length = newline - head_scan_;
    if (length > 0 && pending[newline - 1] == '\r') --length;
    if (length > limits_.max_line) {
      return fail("a head line is longer than " + std::to_string(limits_.max_line) + " bytes");
    }
    if (newline + 1 > limits_.max_header_block) {
      return fail("the head is longer than " + std::to_string(limits_.max_header_block) + " bytes");
    }
    if (length == 0 && head_lines_ == 0) {
      // Empty lines before a request line (after a body, by some clients).
      out.push_back(HttpEvent{HttpEventType::kBetween, std::string(pending.substr(0, newline + 1)), {}});
      consumed_ += newline + 1;
      return Step::kProgress;
    }
    if (length > 0) {
      if (++head_lines_ > limits_.max_headers + 1) {
        return fail("more than " + std::to_string(limits_.max_headers) + " header lines");
      }
      head_scan_ = newline + 1;
      continue;
    }
    // The empty line: the head is complete.
    HttpEvent event{HttpEventType::kHead, std::string(pending.substr(0, newline + 1)), {}};
    HttpHead& head = event.head;
    const auto lines = http_head_lines(event.bytes);
    const bool start_ok = role_ == Role::kRequests ? http_parse_request_line(lines.at(0), head)
                                                   : http_parse_status_line(lines.at(0), head);
    if (!start_ok) {
      return fail(role_ == Role::kRequests ? "not an HTTP/1.x request line" : "not an HTTP/1.x status line");
    }
    for (std::size_t i = 1; i < lines.size(); ++i) {
      const auto colon = lines[i].find(':');
      if (colon == std::string_view::npos || !http_is_token(lines[i].substr(0, colon))) {
        // Also folded lines and "Name :": framing them differently from the
        // server is how requests get smuggled.
        return fail("malformed header line");
      }
      const auto value = http_trim(lines[i].substr(colon + 1));
      if (!http_is_field_text(value)) return fail("control characters in a header value");
      head.headers.emplace_back(std::string(lines[i].substr(0, colon)), std::string(value));
    }
    head.raw = event.bytes;
    Framing framing;
    if (!decide_framing(head, framing)) return Step::kFailed;
    const std::size_t head_size = event.bytes.size();
    out.push_back(std::move(event));
    consumed_ += head_size;
    head_scan_ = 0;
    head_lines_ = 0;
    switch (framing.kind) {
      case Framing::kNone: end_message(out); break;
      case Framing::kLength:
        remaining_ = framing.length;
        state_ = framing.length == 0 ? State::kHead : State::kLengthBody;
        if (framing.length == 0) end_message(out);
        break;
      case Framing::kChunked: state_ = State::kChunkLine; break;
      case Framing::kUntilClose: state_ = State::kUntilClose; break;
      case Framing::kTunnel:
        out.push_back(HttpEvent{HttpEventType::kEnd, {}, {}});
        pass_through(framing.tunnel, out);
        break;
    }
    return Step::kProgress;
  }
}

bool Http1Parser::decide_framing(const HttpHead& head, Framing& framing) {
  const std::string* transfer_encoding = head.header("Transfer-Encoding");
  bool chunked_last = false;
  for (const auto& [name, value] : head.headers) {
    if (!http_iequals(name, "Transfer-Encoding")) continue;
    http_for_each_element(value, [&](std::string_view coding) { chunked_last = http_iequals(coding, "chunked"); });
  }
  bool has_length = false;
  bool length_ok = true;
  std::uint64_t length = 0;
  for (const auto& [name, value] : head.headers) {
    if (!http_iequals(name, "Content-Length")) continue;
    std::size_t elements = 0;
    http_for_each_element(value, [&](std::string_view digits) {
      ++elements;
      std::uint64_t parsed = 0;
      if (digits.size() > kHttpMaxContentLengthDigits) length_ok = false;
      for (char c : digits) {
        if (c < '0' || c > '9') length_ok = false;
        parsed = parsed * 10 + static_cast<std::uint64_t>(c - '0');
      }
      if (has_length && parsed != length) length_ok = false;  // differing lengths
      has_length = true;
      length = parsed;
    });
    if (elements == 0) length_ok = false;
  }
  if (!length_ok) {
    failure_ = "invalid or conflicting Content-Length";
    return false;
  }
  if (role_ == Role::kRequests) {
    if (transfer_encoding != nullptr) {
      if (has_length) {
        failure_ = "a request with both Transfer-Encoding and Content-Length";
        return false;
      }
      if (!chunked_last) {
        failure_ = "a request whose last transfer coding is not chunked";
        return false;
      }
      framing.kind = Framing::kChunked;
    } else if (has_length) {
      framing.kind = Framing::kLength;
      framing.length = length;
    }
    if (head.method == "CONNECT") {
      framing.kind = Framing::kTunnel;
      framing.tunnel = "a CONNECT tunnel";
    }
    return true;
  }
  std::string method = "GET";
  const bool interim = head.status < 200 && head.status != 101;
  if (!interim && !request_methods_.empty()) {
    method = std::move(request_methods_.front());
    request_methods_.pop_front();
  }
  if (head.status == 101) {
    framing.kind = Framing::kTunnel;
    framing.tunnel = "101 Switching Protocols";
  } else if (method == "CONNECT" && head.status >= 200 && head.status < 300) {
    framing.kind = Framing::kTunnel;
    framing.tunnel = "a CONNECT tunnel";
  } else if (interim || method == "HEAD" || head.status == 204 || head.status == 304) {
    framing.kind = Framing::kNone;
  } else if (transfer_encoding != nullptr) {
    framing.kind = chunked_last ? Framing::kChunked : Framing::kUntilClose;
  } else if (has_length) {
    framing.kind = Framing::kLength;
    framing.length = length;
  } else {
    framing.kind = Framing::kUntilClose;
  }
  return true;
}

Http1Parser::Step Http1Parser::read_chunk_line(std::vector<HttpEvent>& out) {
  const std::string_view pending = std::string_view(buffer_).substr(consumed_);
  const auto newline = pending.find('\n');
  if (newline == std::string_view::npos) {
    if (pending.size() > limits_.max_chunk_line + 1) return fail("a chunk size line is too long");
    return Step::kNeedMore;
  }
  std::string_view line = pending.substr(0, newline);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (line.size() > limits_.max_chunk_line) return fail("a chunk size line is too long");
  std::size_t digits = 0;
  std::uint64_t size = 0;
  for (; digits < line.size(); ++digits) {
    const char c = line[digits];
    int value = -1;
    if (c >= '0' && c <= '9') value = c - '0';
    if (c >= 'a' && c <= 'f') value = c - 'a' + 10;
    if (c >= 'A' && c <= 'F') value = c - 'A' + 10;
    if (value < 0) break;
    size = size * 16 + static_cast<std::uint64_t>(value);
  }
  if (digits == 0 || digits > kHttpMaxChunkSizeDigits) return fail("not a chunk size line");
  const auto rest = http_trim(line.substr(digits));
  if (!rest.empty() && (rest.front() != ';' || !http_is_field_text(rest))) return fail("not a chunk size line");
  emit_body(newline + 1, out);
  if (size == 0) {
    state_ = State::kTrailers;
    head_scan_ = 0;
    head_lines_ = 0;
  } else {
    state_ = State::kChunkData;
    remaining_ = size;
  }
  return Step::kProgress;
}

Http1Parser::Step Http1Parser::read_trailers(std::vector<HttpEvent>& out) {
  const std::string_view pending = std::string_view(buffer_).substr(consumed_);
  while (true) {
    const auto newline = pending.find('\n', head_scan_);
    if (newline == std::string_view::npos) {
      if (pending.size() - head_scan_ > limits_.max_line + 1 || pending.size() > limits_.max_header_block) {
        return fail("the trailers are too long");
      }
      return Step::kNeedMore;
    }
    std::size_t length = newline - head_scan_;
    if (length > 0 && pending[newline - 1] == '\r') --length;
    if (length > limits_.max_line || newline + 1 > limits_.max_header_block) return fail("the trailers are too long");
    if (length == 0) {
      emit_body(newline + 1, out);
      end_message(out);
      return Step::kProgress;
    }
    const auto line = pending.substr(head_scan_, length);
    const auto colon = line.find(':');
    if (colon == std::string_view::npos || !http_is_token(line.substr(0, colon))) return fail("malformed trailer line");
    if (++head_lines_ > limits_.max_headers) return fail("too many trailer lines");
    head_scan_ = newline + 1;
  }
}

}  // namespace chaos::agent::proxy
