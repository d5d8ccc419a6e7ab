#include "orchestrator/experiment/notify_loader.h"

namespace chaos::orchestrator {

namespace {

constexpr int kNotifyMaxWebhooks = 16;
constexpr int kNotifyMaxRetries = 5;
constexpr std::chrono::milliseconds kNotifyMinTimeout{100};
constexpr std::chrono::milliseconds kNotifyMaxTimeout{60000};
constexpr std::chrono::milliseconds kNotifyMaxBackoff{30000};
// Answers of webhooks and Grafana are only logged: a small bound.
constexpr std::size_t kNotifyMaxReplyBytes = 64 * 1024;

void read_notify_delivery(TableReader& reader, HttpEndpointConfig& endpoint, DeliveryPolicy& delivery) {
  using std::chrono::duration_cast;
  using std::chrono::milliseconds;
  if (auto timeout = reader.duration("timeout")) {
    endpoint.timeout = duration_cast<milliseconds>(*timeout);
    if (endpoint.timeout < kNotifyMinTimeout || endpoint.timeout > kNotifyMaxTimeout) {
      reader.error_at(*reader.node("timeout"), reader.name() + ".timeout: must be within 100ms..60s");
    }
  }
  if (auto retries = reader.integer("retries", 0, kNotifyMaxRetries)) delivery.retries = static_cast<int>(*retries);
  if (auto backoff = reader.duration("backoff")) {
    delivery.backoff = duration_cast<milliseconds>(*backoff);
    if (delivery.backoff > kNotifyMaxBackoff) {
      reader.error_at(*reader.node("backoff"), reader.name() + ".backoff: at most 30s");
    }
  }
  endpoint.max_reply_bytes = kNotifyMaxReplyBytes;
}

void check_notify_plaintext(TableReader& reader, const HttpEndpointConfig& endpoint) {
  const std::string problem = plaintext_credentials_problem(endpoint);
  if (problem.empty()) return;
  const toml::node* url = reader.node("url");
  if (url != nullptr) {
    reader.error_at(*url, reader.name() + ": " + problem);
  } else {
    reader.error_here(reader.name() + ": " + problem);
  }
}

std::optional<WebhookConfig> read_webhook(TableReader& reader, const std::string& source_path) {
  WebhookConfig webhook;
  const toml::node* url_file_node = reader.node("url_file");
  read_http_endpoint(reader, source_path, url_file_node == nullptr, "bearer_token_file", webhook.endpoint);
  if (auto url_file = reader.string("url_file")) {
    // A Slack incoming webhook's URL is its credential.
    if (!webhook.endpoint.url.empty()) {
      reader.error_at(*url_file_node, reader.name() + ": url and url_file exclude each other");
    } else if (auto url = read_secret_file(path_relative_to(source_path, *url_file), "url_file"); !url.ok()) {
      reader.error_at(*url_file_node, reader.name() + "." + url.status().message());
    } else if (!parse_http_url(*url).ok()) {
      reader.error_at(*url_file_node, reader.name() + ".url_file: '" + *url_file +
                                          "' does not hold an http:// or https:// URL");
    } else {
      webhook.endpoint.url = *url;
      webhook.endpoint.url_is_secret = true;
    }
  }
  read_notify_delivery(reader, webhook.endpoint, webhook.delivery);
  if (auto events = reader.string_list("events")) {
    webhook.on_start = webhook.on_abort = webhook.on_verdict = false;
    for (const auto& event : *events) {
      if (event == "start") {
        webhook.on_start = true;
      } else if (event == "abort") {
        webhook.on_abort = true;
      } else if (event == "verdict") {
        webhook.on_verdict = true;
      } else {
        reader.error_at(*reader.node("events"),
                        reader.name() + ".events: '" + event + "' is not one of start, abort, verdict");
      }
    }
    if (events->empty()) reader.error_at(*reader.node("events"), reader.name() + ".events: empty");
  }
  if (auto format = reader.string("format")) {
    if (*format == "slack") {
      webhook.format = NotifyFormat::kSlack;
    } else if (*format != "json") {
      reader.error_at(*reader.node("format"), reader.name() + ".format: '" + *format + "' is not one of json, slack");
    }
  }
  if (auto headers_file = reader.string("headers_file")) {
    auto headers = read_headers_file(path_relative_to(source_path, *headers_file));
    if (headers.ok()) {
      webhook.endpoint.headers = std::move(*headers);
    } else {
      reader.error_at(*reader.node("headers_file"), reader.name() + "." + headers.status().message());
    }
  }
  reader.reject_unknown_keys();
  check_notify_plaintext(reader, webhook.endpoint);
  return webhook;
}

GrafanaConfig read_grafana(TableReader& reader, const std::string& source_path) {
  GrafanaConfig grafana;
  read_http_endpoint(reader, source_path, true, "token_file", grafana.endpoint);
  read_notify_delivery(reader, grafana.endpoint, grafana.delivery);
  grafana.dashboard_uid = reader.string("dashboard_uid").value_or("");
  reader.reject_unknown_keys();
  check_notify_plaintext(reader, grafana.endpoint);
  return grafana;
}

}  // namespace

NotifyConfig read_notify_config(TableReader& root, const std::string& source_path) {
  NotifyConfig config;
  if (const toml::array* tables = root.array_of_tables("notify")) {
    if (tables->size() > static_cast<size_t>(kNotifyMaxWebhooks)) {
      root.error_at(*root.node("notify"), "notify: at most 16 webhooks");
    }
    for (size_t i = 0; i < tables->size() && i < static_cast<size_t>(kNotifyMaxWebhooks); ++i) {
      TableReader reader(*tables->get(i)->as_table(), "notify[" + std::to_string(i) + "]", root.diagnostics());
      if (auto webhook = read_webhook(reader, source_path)) config.webhooks.push_back(std::move(*webhook));
    }
  }
  if (const toml::table* table = root.table("grafana")) {
    TableReader reader(*table, "grafana", root.diagnostics());
    config.grafana = read_grafana(reader, source_path);
  }
  return config;
}

}  // namespace chaos::orchestrator
