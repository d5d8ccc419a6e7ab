// Queries Prometheus over its HTTP API. Values stay as the text Prometheus
// sent ("NaN", "+Inf", "0.99") next to the parsed double, so reports show
// exactly what the server answered.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "orchestrator/experiment/http_endpoint_config.h"

namespace chaos::orchestrator {

struct SamplePoint {
  double timestamp = 0;  // seconds since the epoch
  std::string text;      // as sent: "0.5", "NaN", "+Inf"
  double value = 0;
};

struct Series {
  std::map<std::string, std::string> labels;
  std::vector<SamplePoint> points;  // one for instant queries
};

struct QueryResult {
  std::string result_type;  // "vector", "scalar", "matrix", "string"
  std::vector<Series> series;
  bool empty() const { return series.empty(); }
};

class PrometheusClient {
 public:
  virtual ~PrometheusClient() = default;
  virtual StatusOr<QueryResult> instant_query(const std::string& query) = 0;
  virtual StatusOr<QueryResult> range_query(const std::string& query, WallTime start, WallTime end,
                                            std::chrono::milliseconds step) = 0;
  // Reachability: GET /-/ready (falls back to a trivial query).
  virtual Status check_ready() = 0;
  // GET /api/v1/targets?state=active&scrapePool=POOL, the body as sent (at
  // most kMaxTargetsJsonBytes; prometheus_targets.h parses it and keeps only
  // POOL's targets, as a Prometheus older than 2.42 answers with every
  // pool). Agent discovery.
  virtual StatusOr<std::string> active_targets_json(const std::string& /*scrape_pool*/) {
    return unimplemented("this Prometheus client cannot list scrape targets");
  }
};

struct PrometheusOptions {
  std::string url;           // "http://127.0.0.1:9090" (may have a path prefix)
  std::string bearer_token;  // empty: none
  std::chrono::milliseconds timeout{5000};
};

// The HTTP(S) implementation: TLS, basic auth and bearer token as the
// endpoint says (http_endpoint.h); errors name the URL asked.
StatusOr<std::unique_ptr<PrometheusClient>> make_http_prometheus_client(const HttpEndpointConfig& endpoint);
// The same for a URL, a token and a timeout.
StatusOr<std::unique_ptr<PrometheusClient>> make_http_prometheus_client(const PrometheusOptions& options);

// Parses a /api/v1/query or /api/v1/query_range answer; `query` names the
// expression in error messages.
StatusOr<QueryResult> parse_query_response(const std::string& body, const std::string& query);

// Prometheus spells special floats "NaN", "+Inf", "-Inf".
double parse_prometheus_float(const std::string& text);

}  // namespace chaos::orchestrator
