// Incremental HTTP/1.1 framing of one direction of a connection: requests
// (client to server) or responses (server to client), pipelined, in any
// chunking. It hands out each message's head parsed, and its body as raw
// bytes as they arrive (never buffering a whole body), so a filter can
// forward unchanged bytes byte for byte. Anything it cannot frame safely
// (a malformed line, a bound exceeded, conflicting lengths, an unknown
// transfer coding, an upgrade or CONNECT tunnel) switches it to
// pass-through for the rest of the connection.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace chaos::agent::proxy {

struct HttpLimits {
  std::size_t max_line = 8 * 1024;          // request/status line, each header line
  std::size_t max_headers = 100;            // also bounds trailer lines
  std::size_t max_header_block = 64 * 1024; // the whole head, line ends included
  std::size_t max_chunk_line = 1024;        // chunk size plus extensions
};

struct HttpHead {
  bool request = true;
  std::string method;   // requests
  std::string target;   // requests, as sent
  std::string path;     // requests: the target's path without query (origin or absolute form)
  int status = 0;       // responses
  std::string version;  // "HTTP/1.1"
  std::vector<std::pair<std::string, std::string>> headers;  // name as sent, value trimmed
  std::string raw;      // the head as received, up to and including the empty line

  // The first value of `name` (case-insensitive); nullptr if absent.
  const std::string* header(std::string_view name) const;
  // HTTP/1.1 unless "Connection: close"; HTTP/1.0 only with "keep-alive".
  bool keep_alive() const;
};

enum class HttpEventType {
  kHead,         // a message head (`head` set, `bytes` == head.raw)
  kBody,         // body bytes as on the wire (chunk framing and trailers included)
  kEnd,          // the message is complete (no bytes)
  kBetween,      // empty lines between messages, which servers ignore
  kPassThrough,  // unframed bytes: everything from here on
};

struct HttpEvent {
  HttpEventType type = HttpEventType::kBody;
  std::string bytes;
  HttpHead head;
};

class Http1Parser {
 public:
  enum class Role { kRequests, kResponses };

  explicit Http1Parser(Role role, HttpLimits limits = {});

  void feed(std::string_view input, std::vector<HttpEvent>& out);
  // The end of the stream: a body delimited by the close ends; bytes of an
  // incomplete message are handed out as pass-through.
  void finish(std::vector<HttpEvent>& out);
  void pass_through(std::string reason, std::vector<HttpEvent>& out);

  // Responses only: the method of the next request the server answers, in
  // order (a response to HEAD has no body; a 2xx to CONNECT is a tunnel).
  // Without one, a response is taken to answer a GET. At most 1024 are kept
  // (a longer pipeline passes the connection through).
  void expect_response_to(std::string method, std::vector<HttpEvent>& out);

  bool passing_through() const { return state_ == State::kPassThrough; }
  const std::string& pass_through_reason() const { return reason_; }
  // Bytes held back: at most max_header_block or max_chunk_line (+ 2).
  std::size_t buffered() const { return buffer_.size() - consumed_; }

 private:
  enum class State { kHead, kLengthBody, kChunkLine, kChunkData, kChunkDataEnd, kTrailers, kUntilClose, kPassThrough };
  enum class Step { kProgress, kNeedMore, kFailed };

  Step step(std::vector<HttpEvent>& out);
  Step read_head(std::vector<HttpEvent>& out);
  struct Framing {
    enum Kind { kNone, kLength, kChunked, kUntilClose, kTunnel } kind = kNone;
    std::uint64_t length = 0;
    std::string tunnel;  // kTunnel: why the rest passes through
  };
  // False (with failure_ set) when the body cannot be framed safely.
  bool decide_framing(const HttpHead& head, Framing& framing);
  Step read_chunk_line(std::vector<HttpEvent>& out);
  Step read_trailers(std::vector<HttpEvent>& out);
  void emit_body(std::size_t count, std::vector<HttpEvent>& out);
  void end_message(std::vector<HttpEvent>& out);
  Step fail(std::string reason);

  Role role_;
  HttpLimits limits_;
  State state_ = State::kHead;
  std::string buffer_;
  std::size_t consumed_ = 0;
  std::size_t head_scan_ = 0;   // start of the first head line not yet checked, from consumed_
  std::size_t head_lines_ = 0;  // lines checked so far in this head (or trailers)
  std::uint64_t remaining_ = 0; // body or chunk bytes still to come
  std::deque<std::string> request_methods_;
  std::string reason_;
  std::string failure_;
};

}  // namespace chaos::agent::proxy
