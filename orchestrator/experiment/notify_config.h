// Where a run reports what happens to it: [[notify]] webhooks and [grafana]
// annotations. Loaded by notify_loader.h; sent by orchestrator/notify/.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "orchestrator/experiment/http_endpoint_config.h"

namespace chaos::orchestrator {

enum class NotifyFormat { kJson, kSlack };

// Deliveries of one endpoint: each attempt waits at most endpoint.timeout
// (connect, read, write), a failed one (no answer, or not 2xx) is retried
// `retries` more times after `backoff`, doubled each time.
struct DeliveryPolicy {
  int retries = 2;
  std::chrono::milliseconds backoff{1000};
};

struct WebhookConfig {
  HttpEndpointConfig endpoint;  // url, TLS, headers from headers_file
  bool on_start = true;
  bool on_abort = true;
  bool on_verdict = true;
  NotifyFormat format = NotifyFormat::kJson;
  DeliveryPolicy delivery;
};

struct GrafanaConfig {
  HttpEndpointConfig endpoint;  // base URL; bearer token from token_file
  std::string dashboard_uid;    // empty: organisation-wide annotations
  DeliveryPolicy delivery;
};

struct NotifyConfig {
  std::vector<WebhookConfig> webhooks;
  std::optional<GrafanaConfig> grafana;
  bool empty() const { return webhooks.empty() && !grafana; }
};

}  // namespace chaos::orchestrator
