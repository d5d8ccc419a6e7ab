// The HTTP(S) implementation of PrometheusClient over HttpEndpoint.
#include "orchestrator/clients/prometheus_client.h"

#include <cstdio>

#include "common/url_encode.h"
#include "orchestrator/clients/http_endpoint.h"
#include "orchestrator/clients/prometheus_targets.h"

namespace chaos::orchestrator {

namespace {

std::string epoch_seconds(WallTime time) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(time.time_since_epoch()).count();
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%lld.%03lld", static_cast<long long>(ms / 1000),
                static_cast<long long>(ms % 1000));
  return buffer;
}

class HttpPrometheusClient final : public PrometheusClient {
 public:
  explicit HttpPrometheusClient(std::unique_ptr<HttpEndpoint> endpoint) : endpoint_(std::move(endpoint)) {}

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
    auto reply = endpoint_->get("/-/ready");
    if (!reply.ok()) return unavailable("prometheus unreachable: " + reply.status().message());
    if (reply->status != 200) {
      return unavailable("prometheus at " + endpoint_->url_of("/-/ready") + " is not ready: " + describe_reply(*reply) +
                         auth_hint(reply->status));
    }
    return {};
  }

  StatusOr<std::string> active_targets_json(const std::string& scrape_pool) override {
    // Only the agents' pool: a large Prometheus scrapes far more targets
    // than chaosctl reads.
    const std::string path = "/api/v1/targets?state=active&scrapePool=" + url_encode(scrape_pool);
    auto reply = endpoint_->get(path);
    if (!reply.ok()) return unavailable("prometheus unreachable (agent discovery): " + reply.status().message());
    if (reply->status != 200) {
      return unavailable("prometheus at " + endpoint_->url_of(path) + " answered " + describe_reply(*reply) +
                         auth_hint(reply->status));
    }
    return std::move(reply->body);
  }

 private:
  static std::string auth_hint(int status) {
    return status == 401 || status == 403
               ? " (check prometheus.basic_auth_user, basic_auth_password_file or bearer_token_file)"
               : "";
  }

  // POST keeps long PromQL out of URLs (and out of proxy logs).
  StatusOr<QueryResult> post(const std::string& path, const std::vector<std::pair<std::string, std::string>>& fields,
                             const std::string& query) {
    auto reply = endpoint_->post_form(path, fields);
    if (!reply.ok()) return unavailable("prometheus unreachable (query '" + query + "'): " + reply.status().message());
    // 400/422 carry a JSON error body that names the problem in the query.
    if (reply->status != 200 && reply->status != 400 && reply->status != 422) {
      return unavailable("prometheus at " + endpoint_->url_of(path) + " answered " + describe_reply(*reply) +
                         " to query '" + query + "'" + auth_hint(reply->status));
    }
    return parse_query_response(reply->body, query);
  }

  std::unique_ptr<HttpEndpoint> endpoint_;
};

}  // namespace

StatusOr<std::unique_ptr<PrometheusClient>> make_http_prometheus_client(const HttpEndpointConfig& endpoint) {
  auto created = HttpEndpoint::create(endpoint);
  if (!created.ok()) return invalid_argument("prometheus: " + created.status().message());
  return std::unique_ptr<PrometheusClient>(std::make_unique<HttpPrometheusClient>(std::move(*created)));
}

StatusOr<std::unique_ptr<PrometheusClient>> make_http_prometheus_client(const PrometheusOptions& options) {
  HttpEndpointConfig endpoint;
  endpoint.url = options.url;
  endpoint.bearer_token = options.bearer_token;
  endpoint.timeout = options.timeout;
  return make_http_prometheus_client(endpoint);
}

}  // namespace chaos::orchestrator
