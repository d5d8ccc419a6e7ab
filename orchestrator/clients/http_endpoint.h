// One HTTP(S) service chaosctl talks to (Prometheus, a webhook, Grafana),
// set up from an HttpEndpointConfig in one place: http or https with a path
// prefix, timeouts, the CA file, an optional client certificate, basic auth
// or a bearer token, extra headers, a bound on the answer's size. Every
// error names the full URL asked and says what failed (connect, timeout,
// TLS verification against which CA). Thread-safe: requests are serialized.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"
#include "orchestrator/experiment/http_endpoint_config.h"

namespace chaos::orchestrator {

struct HttpReply {
  int status = 0;
  std::string body;  // at most the endpoint's max_reply_bytes
  bool success() const { return status >= 200 && status < 300; }
};

class HttpEndpoint {
 public:
  // Fails on a URL that does not parse, or credentials over plain http to a
  // non-loopback host (plaintext_credentials_problem).
  static StatusOr<std::unique_ptr<HttpEndpoint>> create(const HttpEndpointConfig& config);
  virtual ~HttpEndpoint() = default;

  // The full URL of `path` under the endpoint's prefix: "https://h:9090/prom/api/v1/query".
  virtual std::string url_of(const std::string& path) const = 0;
  // An error Status only when no HTTP answer came (or it was too large);
  // any HTTP status is a reply.
  // Ends a request in flight on another thread at once (it then fails):
  // the timeouts bound each read and write, not a whole request, so a
  // receiver that drips one byte a second is only stopped this way.
  virtual void abort_in_flight() {}
  virtual StatusOr<HttpReply> get(const std::string& path) = 0;
  virtual StatusOr<HttpReply> post_form(const std::string& path,
                                        const std::vector<std::pair<std::string, std::string>>& fields) = 0;
  virtual StatusOr<HttpReply> post(const std::string& path, const std::string& body,
                                   const std::string& content_type) = 0;
};

// "HTTP 401 Unauthorized" and the start of the body, for error messages.
std::string describe_reply(const HttpReply& reply);

}  // namespace chaos::orchestrator
