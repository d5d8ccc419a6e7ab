// http.abort, http.delay and http.headers: a StreamFilter that frames both
// directions of a plaintext HTTP/1.1 connection (Http1Parser) and acts on
// the requests that match, keeping responses in request order. TLS (the
// client's first byte is a handshake record) passes through untouched.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "agent/faults/proxy/protocols/http1_parser.h"
#include "agent/faults/proxy/protocols/protocol_filter_support.h"
#include "agent/faults/proxy/stream_filter.h"
#include "chaos/v1/agent.pb.h"
#include "common/status.h"

namespace chaos::agent::proxy {

inline constexpr std::size_t kHttpFaultMaxBody = 64 * 1024;
inline constexpr std::size_t kHttpFaultMaxHeaders = 16;
inline constexpr std::size_t kHttpFaultMaxHeaderName = 256;
inline constexpr std::size_t kHttpFaultMaxHeaderValue = 4 * 1024;
inline constexpr std::size_t kHttpFaultMaxPathGlob = 1024;
inline constexpr Duration kHttpFaultMaxDelay = std::chrono::minutes(10);

// `*` any run of characters ('/' included), `?` one character; everything
// else literal. Matched against the path without the query.
bool http_path_glob_matches(std::string_view glob, std::string_view path);

struct HttpRequestMatcher {
  std::string method;                 // exact; empty: any
  std::string path_glob;              // empty: any
  std::string header;                 // case-insensitive name; empty: none
  std::optional<std::string> header_value;  // exact; unset: present

  bool matches(const HttpHead& request) const;
};

enum class HttpFaultAction { kAbort, kDelay, kHeaders };

struct HttpFaultConfig {
  HttpRequestMatcher match;
  HttpFaultAction action = HttpFaultAction::kAbort;
  int status = 503;                   // kAbort
  std::string body;                   // kAbort
  Duration delay{0};                  // kDelay
  bool delay_response = false;        // kDelay: the response instead of the request
  std::vector<std::pair<std::string, std::string>> request_headers;   // kHeaders
  std::vector<std::pair<std::string, std::string>> response_headers;  // kHeaders
  double percent = 0;                 // of matching requests; 0 = all
  HttpLimits limits;
};

struct HttpFaultCounters {
  std::atomic<std::uint64_t> connections{0};
  std::atomic<std::uint64_t> pass_through_connections{0};
  std::atomic<std::uint64_t> tls_connections{0};
  std::atomic<std::uint64_t> requests_seen{0};
  std::atomic<std::uint64_t> requests_matched{0};  // and picked by the percentage
  std::atomic<std::uint64_t> requests_aborted{0};
  std::atomic<std::uint64_t> requests_delayed{0};
  std::atomic<std::uint64_t> responses_delayed{0};
  std::atomic<std::uint64_t> requests_rewritten{0};
  std::atomic<std::uint64_t> responses_rewritten{0};
  // Answers of aborted requests still waiting for earlier responses when
  // the connection fell back to pass-through (they are not sent).
  std::atomic<std::uint64_t> answers_lost{0};

  void note_pass_through(const std::string& reason);
  std::string last_pass_through_reason() const;

 private:
  mutable std::mutex mutex_;
  std::string last_reason_;
};

// The response the agent sends for an aborted request: `status` with a
// reason phrase, Content-Length (no body for HEAD, 1xx, 204, 304) and
// Connection: keep-alive or close.
std::string http_abort_response(int status, const std::string& body, bool head_request, bool keep_alive);

class HttpFaultFilter final : public StreamFilter {
 public:
  HttpFaultFilter(std::shared_ptr<const HttpFaultConfig> config, std::shared_ptr<HttpFaultCounters> counters,
                  std::shared_ptr<ProtocolPercentSource> random);

  FilterVerdict on_bytes(Direction from, std::string_view input, SteadyTime now) override;
  FilterVerdict on_end(Direction from, SteadyTime now) override;

  // Once the connection passes through (TLS, a parser bound) and this
  // direction's parser holds no partial message; never for the client's
  // bytes while an abort closes the connection (they are dropped).
  bool passes_through(Direction from) const noexcept override;
  // A head or chunk line waiting for its end: at most max_header_block
  // per direction, so it never needs stop_holding().
  std::size_t held_bytes() const noexcept override { return requests_.buffered() + responses_.buffered(); }

  bool passing_through() const { return passing_through_; }
  const std::string& pass_through_reason() const { return reason_; }

 private:
  // One per request in order: the server answers it, or the agent does.
  struct Slot {
    bool answered_here = false;
    std::string answer;        // answered_here
    bool close_after = false;  // answered_here without keep-alive
    bool delay_response = false;
    bool rewrite_response = false;
  };
  enum class RequestFate { kForward, kDrop, kDelay };

  void start_pass_through(std::string reason);
  void on_request_events(std::vector<HttpEvent>& events, FilterVerdict& verdict);
  void on_response_events(std::vector<HttpEvent>& events, FilterVerdict& verdict);
  // Sends the answers of aborted requests that are now first in line.
  void answer_ready(std::string& out, FilterVerdict& verdict);
  void forward(std::string bytes, Duration delay, FilterVerdict& verdict);

  std::shared_ptr<const HttpFaultConfig> config_;
  std::shared_ptr<HttpFaultCounters> counters_;
  std::shared_ptr<ProtocolPercentSource> random_;
  Http1Parser requests_;
  Http1Parser responses_;
  std::deque<Slot> slots_;
  RequestFate fate_ = RequestFate::kForward;
  bool response_delayed_ = false;  // the current response's head was delayed
  bool interim_response_ = false;
  bool seen_client_byte_ = false;
  bool closing_ = false;           // an answer with Connection: close was sent
  bool passing_through_ = false;
  std::string reason_;
};

class HttpFilterFactory final : public StreamFilterFactory {
 public:
  HttpFilterFactory(HttpFaultConfig config, ProtocolPercentSource random);
  std::unique_ptr<StreamFilter> make(const ConnectionInfo& connection) override;
  const HttpFaultCounters& counters() const { return *counters_; }

 private:
  std::shared_ptr<const HttpFaultConfig> config_;
  std::shared_ptr<ProtocolPercentSource> random_;
  std::shared_ptr<HttpFaultCounters> counters_;
};

// From the fault specs; errors name the proto field ("http_abort.status: ...").
StatusOr<HttpFaultConfig> http_fault_config(const v1::HttpAbort& spec);
StatusOr<HttpFaultConfig> http_fault_config(const v1::HttpDelay& spec);
StatusOr<HttpFaultConfig> http_fault_config(const v1::HttpHeaders& spec);
StatusOr<std::unique_ptr<HttpFilterFactory>> make_http_filter_factory(const v1::HttpAbort& spec,
                                                                       ProtocolPercentSource random);
StatusOr<std::unique_ptr<HttpFilterFactory>> make_http_filter_factory(const v1::HttpDelay& spec,
                                                                       ProtocolPercentSource random);
StatusOr<std::unique_ptr<HttpFilterFactory>> make_http_filter_factory(const v1::HttpHeaders& spec,
                                                                       ProtocolPercentSource random);

}  // namespace chaos::agent::proxy
