// How chaosctl reaches an HTTP service it reports to or reads from
// (Prometheus, a webhook, Grafana): the URL, the TLS trust and the
// credentials. Secrets are read at load time from files the experiment
// names, never written in it; relative paths are relative to the experiment
// file. One loader for every such table so they accept the same keys:
//
//   url = "https://prometheus.example:9090/prom"
//   ca_file = "certs/ca.crt"              # default: the system's trust store
//   client_cert_file = "certs/me.crt"     # optional mTLS, with client_key_file
//   client_key_file = "certs/me.key"
//   bearer_token_file = "secrets/token"   # Authorization: Bearer
//   basic_auth_user = "chaos"             # with basic_auth_password_file
//   basic_auth_password_file = "secrets/password"
//   insecure = false                      # credentials over plain http to a non-loopback host
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"
#include "common/toml_reader.h"

namespace chaos::orchestrator {

struct HttpEndpointConfig {
  std::string url;
  std::chrono::milliseconds timeout{5000};  // connect, and each read and write
  std::string ca_file;
  std::string client_cert_file;
  std::string client_key_file;
  std::string bearer_token;
  std::string basic_auth_user;
  std::string basic_auth_password;
  // Extra request headers (a webhook's headers_file).
  std::vector<std::pair<std::string, std::string>> headers;
  // Like an inventory's `insecure`: credentials over plain http to a host
  // that is not loopback, explicitly.
  bool insecure = false;
  std::size_t max_reply_bytes = 64 * 1024 * 1024;
  // The URL itself is a secret (a Slack webhook's path): read from a
  // url_file, and messages show only its scheme, host and port.
  bool url_is_secret = false;
  bool has_credentials() const;
};

struct HttpUrl {
  std::string scheme;       // "http" or "https"
  std::string host;         // without brackets
  int port = 0;             // the scheme's default when the URL has none
  std::string origin;       // "https://[::1]:9090"
  std::string path_prefix;  // "" or "/prometheus" (no trailing slash)
};

// http:// or https://, a host, an optional port and path; no user:password@
// (credentials belong in files), no query or fragment.
StatusOr<HttpUrl> parse_http_url(const std::string& url);

// Empty when the configuration may be used; otherwise why not: credentials
// (token, password, headers) over plain http to a non-loopback host without
// `insecure = true`. The same rule chaosctl applies to agents.
std::string plaintext_credentials_problem(const HttpEndpointConfig& config);

// The first line of a secret file (trailing whitespace dropped), at most
// 64 KiB; `key` names the TOML key in errors.
StatusOr<std::string> read_secret_file(const std::string& path, const std::string& key);

// "Name: value" lines (blank lines and lines starting with '#' skipped), at
// most 32 of them.
StatusOr<std::vector<std::pair<std::string, std::string>>> read_headers_file(const std::string& path);

// Reads url (required unless `url_required` is false) and the keys above
// from `reader` into `config`; `token_key` is the key naming the bearer
// token file ("bearer_token_file", Grafana's "token_file"). Problems go to
// the reader's diagnostics as file:line:col. Does not reject unknown keys.
void read_http_endpoint(TableReader& reader, const std::string& experiment_path, bool url_required,
                        const std::string& token_key, HttpEndpointConfig& config);

}  // namespace chaos::orchestrator
