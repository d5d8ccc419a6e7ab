// Reads [[notify]] webhooks and the [grafana] table of an experiment (or, by
// the same call, of a suite file) into a NotifyConfig:
//
//   [[notify]]
//   url = "https://hooks.example/chaos"   # + the keys of http_endpoint_config.h
//   url_file = "secrets/slack-url"         # instead of url, when the URL is the secret
//   events = ["start", "abort", "verdict"] # default: all three
//   format = "json"                        # or "slack" ({"text": ...})
//   timeout = "5s"                         # per attempt, 100ms..60s
//   retries = 2                            # more attempts after a failure, 0..5
//   backoff = "1s"                         # before the first retry, doubled after
//   headers_file = "secrets/hook-headers"  # "Name: value" lines
//
//   [grafana]
//   url = "https://grafana.example"
//   token_file = "secrets/grafana-token"   # Authorization: Bearer
//   dashboard_uid = "chaos"                # optional
//   timeout, retries, backoff as above
#pragma once

#include <string>

#include "common/toml_reader.h"
#include "orchestrator/experiment/notify_config.h"

namespace chaos::orchestrator {

// Problems go to root's diagnostics as file:line:col.
NotifyConfig read_notify_config(TableReader& root, const std::string& source_path);

}  // namespace chaos::orchestrator
