// The HTTP implementation of PrometheusClient over cpp-httplib.
#include "orchestrator/clients/prometheus_client.h"

#include <httplib.h>

#include <cstdio>

#include "orchestrator/clients/prometheus_targets.h"

namespace chaos::orchestrator {

namespace {

struct ParsedUrl {
  std::string scheme_host_port;  // "http://127.0.0.1:9090"
  std::string path_prefix;       // "" or "/prometheus"
};

StatusOr<ParsedUrl> parse_url(const std::string& url) {
  const std::string scheme = "http://";
  if (url.rfind(scheme, 0) != 0) {
    return invalid_argument("prometheus url '" + url + "': only http:// is supported");
  }
  const auto slash = url.find('/', scheme.size());
  ParsedUrl parsed;
  parsed.scheme_host_port = url.substr(0, slash);
  if (slash != std::string::npos) parsed.path_prefix = url.substr(slash);
  while (!parsed.path_prefix.empty() && parsed.path_prefix.back() == '/') parsed.path_prefix.pop_back();
  if (parsed.scheme_host_port.size() == scheme.size()) {
    return invalid_argument("prometheus url '" + url + "' has no host");
  }
  return parsed;
}

std::string epoch_seconds(WallTime time) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(time.time_since_epoch()).count();
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%lld.%03lld", static_cast<long long>(ms / 1000),
                static_cast<long long>(ms % 1000));
  return buffer;
}

class HttpPrometheusClient final : public PrometheusClient {
 public:
  HttpPrometheusClient(const PrometheusOptions& options, ParsedUrl url)
      : options_(options), url_(std::move(url)), client_(url_.scheme_host_port) {
    client_.set_connection_timeout(options.timeout);
    client_.set_read_timeout(options.timeout);
    client_.set_write_timeout(options.timeout);
    if (!options.bearer_token.empty()) client_.set_bearer_token_auth(options.bearer_token);
  }

  StatusOr<QueryResult> instant_query(const std::string& query) override {
    return post("/api/v1/query", {{"query", query}}, query);
  }

  StatusOr<QueryResult> range_query(const std::string& query, WallTime start, WallTime end,
                                    std::chrono::milliseconds step) override {
    const std::string step_text = std::to_string(static_cast<double>(step.count()) / 1000.0);
    return post("/api/v1/query_range",
                {{"query", query}, {"start", epoch_seconds(start)}, {"end", epoch_seconds(end)},
                 {"step", step_text}},
                query);
  }

  Status check_ready() override {
    std::lock_guard lock(mutex_);
    auto response = client_.Get(url_.path_prefix + "/-/ready");
    if (!response) return unreachable("/-/ready", response.error());
    if (response->status != 200) {
      return unavailable("prometheus at " + options_.url + " is not ready: HTTP " +
                         std::to_string(response->status) + " " + response->body.substr(0, 200));
    }
    return {};
  }

  StatusOr<std::string> active_targets_json() override {
    std::lock_guard lock(mutex_);
    std::string body;
    bool too_large = false;
    auto response = client_.Get(url_.path_prefix + "/api/v1/targets?state=active", [&](const char* data, size_t length) {
      too_large = body.size() + length > kMaxTargetsJsonBytes;
      if (!too_large) body.append(data, length);
      return !too_large;
    });
    if (too_large) {
      return resource_exhausted("prometheus at " + options_.url + ": /api/v1/targets answer larger than " +
                                std::to_string(kMaxTargetsJsonBytes) + " bytes");
    }
    if (!response) return unreachable("/api/v1/targets", response.error());
    if (response->status != 200) {
      return unavailable("prometheus at " + options_.url + " answered HTTP " + std::to_string(response->status) +
                         " to /api/v1/targets: " + body.substr(0, 200));
    }
    return body;
  }

 private:
  Status unreachable(const std::string& what, httplib::Error error) const {
    return unavailable("prometheus at " + options_.url + " unreachable (" + what + "): " +
                       httplib::to_string(error));
  }

  // POST keeps long PromQL out of URLs (and out of proxy logs).
  StatusOr<QueryResult> post(const std::string& path, const httplib::Params& params,
                             const std::string& query) {
    std::lock_guard lock(mutex_);
    auto response = client_.Post(url_.path_prefix + path, params);
    if (!response) return unreachable("query '" + query + "'", response.error());
    // 400/422 carry a JSON error body that names the problem in the query.
    if (response->status != 200 && response->status != 400 && response->status != 422) {
      return unavailable("prometheus at " + options_.url + " answered HTTP " +
                         std::to_string(response->status) + " to query '" + query + "'");
    }
    return parse_query_response(response->body, query);
  }

  PrometheusOptions options_;
  ParsedUrl url_;
  std::mutex mutex_;  // httplib::Client is not safe for concurrent requests
  httplib::Client client_;
};

}  // namespace

StatusOr<std::unique_ptr<PrometheusClient>> make_http_prometheus_client(const PrometheusOptions& options) {
  CHAOS_ASSIGN_OR_RETURN(auto url, parse_url(options.url));
  return std::unique_ptr<PrometheusClient>(std::make_unique<HttpPrometheusClient>(options, std::move(url)));
}

}  // namespace chaos::orchestrator
