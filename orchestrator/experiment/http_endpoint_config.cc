#include "orchestrator/experiment/http_endpoint_config.h"

#include <cctype>
#include <filesystem>
#include <sstream>

#include "common/host_port.h"
#include "common/loopback.h"
#include "common/proc_reader.h"

namespace chaos::orchestrator {

namespace {

constexpr std::size_t kHttpSecretFileLimit = 64 * 1024;
constexpr std::size_t kHttpHeadersFileLimit = 64 * 1024;
constexpr std::size_t kHttpMaxHeaders = 32;

std::string trim_http_text(const std::string& text) {
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return "";
  const auto last = text.find_last_not_of(" \t\r\n");
  return text.substr(first, last - first + 1);
}

// RFC 9110 token characters.
bool http_header_name_ok(const std::string& name) {
  if (name.empty()) return false;
  for (unsigned char c : name) {
    if (std::isalnum(c) == 0 && std::string("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) == std::string::npos) {
      return false;
    }
  }
  return true;
}

bool http_has_control_chars(const std::string& text) {
  for (unsigned char c : text) {
    if ((c < 0x20 && c != '\t') || c == 0x7f) return true;
  }
  return false;
}

}  // namespace

bool HttpEndpointConfig::has_credentials() const {
  return !bearer_token.empty() || !basic_auth_password.empty() || !headers.empty() || url_is_secret;
}

StatusOr<HttpUrl> parse_http_url(const std::string& url) {
  HttpUrl parsed;
  std::string rest;
  if (url.rfind("http://", 0) == 0) {
    parsed.scheme = "http";
    rest = url.substr(7);
  } else if (url.rfind("https://", 0) == 0) {
    parsed.scheme = "https";
    rest = url.substr(8);
  } else {
    return invalid_argument("url '" + url + "' is not an http:// or https:// URL");
  }
  if (rest.find_first_of("?#") != std::string::npos) {
    return invalid_argument("url '" + url + "': no query or fragment, please");
  }
  const auto slash = rest.find('/');
  const std::string authority = rest.substr(0, slash);
  if (slash != std::string::npos) parsed.path_prefix = rest.substr(slash);
  while (!parsed.path_prefix.empty() && parsed.path_prefix.back() == '/') parsed.path_prefix.pop_back();
  if (authority.find('@') != std::string::npos) {
    return invalid_argument("url '" + url +
                            "': no user or password in the URL (basic_auth_user and basic_auth_password_file)");
  }
  if (authority.empty()) return invalid_argument("url '" + url + "' has no host");
  const int default_port = parsed.scheme == "https" ? 443 : 80;
  const bool bracketed = authority.front() == '[';
  const auto close = authority.find(']');
  const bool has_port = bracketed ? (close != std::string::npos && close + 1 < authority.size())
                                  : authority.find(':') != std::string::npos;
  if (has_port) {
    auto host_port = split_host_port(authority, "url '" + url + "'");
    if (!host_port.ok()) return host_port.status();
    parsed.host = host_port->first;
    parsed.port = host_port->second;
    if (parsed.port == 0) return invalid_argument("url '" + url + "': port 0");
  } else {
    parsed.host = bracketed ? authority.substr(1, authority.size() - 2) : authority;
    parsed.port = default_port;
  }
  if (parsed.host.empty() || parsed.host.find_first_of("[]/ ") != std::string::npos) {
    return invalid_argument("url '" + url + "' has no valid host");
  }
  const bool v6 = parsed.host.find(':') != std::string::npos;
  parsed.origin = parsed.scheme + "://" + (v6 ? "[" + parsed.host + "]" : parsed.host) + ":" +
                  std::to_string(parsed.port);
  return parsed;
}

std::string plaintext_credentials_problem(const HttpEndpointConfig& config) {
  auto url = parse_http_url(config.url);
  if (!url.ok() || url->scheme != "http" || !config.has_credentials() || config.insecure) return "";
  if (is_loopback_host(url->host)) return "";
  return "refusing to send credentials over plain http to " + url->host +
         " (use https://, or set insecure = true to accept it)";
}

StatusOr<std::string> read_secret_file(const std::string& path, const std::string& key) {
  if (std::filesystem::is_directory(path)) return invalid_argument(key + ": '" + path + "' is a directory");
  auto text = read_bounded(path, kHttpSecretFileLimit + 1);
  if (!text) return invalid_argument(key + ": cannot read '" + path + "'");
  if (text->size() > kHttpSecretFileLimit) return invalid_argument(key + ": '" + path + "' is larger than 64 KiB");
  const std::string first_line = trim_http_text(text->substr(0, text->find('\n')));
  if (first_line.empty()) return invalid_argument(key + ": '" + path + "' is empty");
  if (http_has_control_chars(first_line)) {
    return invalid_argument(key + ": '" + path + "' holds control characters");
  }
  return first_line;
}

StatusOr<std::vector<std::pair<std::string, std::string>>> read_headers_file(const std::string& path) {
  if (std::filesystem::is_directory(path)) return invalid_argument("headers_file: '" + path + "' is a directory");
  auto text = read_bounded(path, kHttpHeadersFileLimit + 1);
  if (!text) return invalid_argument("headers_file: cannot read '" + path + "'");
  if (text->size() > kHttpHeadersFileLimit) {
    return invalid_argument("headers_file: '" + path + "' is larger than 64 KiB");
  }
  std::vector<std::pair<std::string, std::string>> headers;
  std::istringstream lines(*text);
  int number = 0;
  for (std::string line; std::getline(lines, line);) {
    ++number;
    const std::string trimmed = trim_http_text(line);
    if (trimmed.empty() || trimmed.front() == '#') continue;
    const std::string where = "headers_file: " + path + ":" + std::to_string(number) + ": ";
    const auto colon = trimmed.find(':');
    if (colon == std::string::npos) return invalid_argument(where + "expected 'Name: value'");
    const std::string name = trim_http_text(trimmed.substr(0, colon));
    const std::string value = trim_http_text(trimmed.substr(colon + 1));
    if (!http_header_name_ok(name)) return invalid_argument(where + "'" + name + "' is not a header name");
    if (http_has_control_chars(value)) return invalid_argument(where + "the value holds control characters");
    if (headers.size() == kHttpMaxHeaders) return invalid_argument(where + "more than 32 headers");
    headers.emplace_back(name, value);
  }
  return headers;
}

namespace {

// A file the endpoint names must exist when the experiment loads, so a typo
// fails `chaosctl validate` rather than the run.
std::string http_readable_file(TableReader& reader, const std::string& experiment_path, const std::string& key) {
  auto written = reader.string(key);
  if (!written || written->empty()) return "";  // "" means none, as bearer_token_file = "" always did
  const std::string path = path_relative_to(experiment_path, *written);
  if (!read_bounded(path, 1)) reader.error_at(*reader.node(key), reader.name() + "." + key + ": cannot read '" + path + "'");
  return path;
}

template <typename Value>
std::optional<Value> http_report(TableReader& reader, const std::string& key, StatusOr<Value> value) {
  if (value.ok()) return std::move(*value);
  reader.error_at(*reader.node(key), reader.name() + "." + value.status().message());
  return std::nullopt;
}

}  // namespace

void read_http_endpoint(TableReader& reader, const std::string& experiment_path, bool url_required,
                        const std::string& token_key, HttpEndpointConfig& config) {
  if (auto url = reader.string("url", url_required)) {
    config.url = *url;
    auto parsed = parse_http_url(*url);
    if (!parsed.ok()) reader.error_at(*reader.node("url"), reader.name() + "." + parsed.status().message());
  }
  config.ca_file = http_readable_file(reader, experiment_path, "ca_file");
  config.client_cert_file = http_readable_file(reader, experiment_path, "client_cert_file");
  config.client_key_file = http_readable_file(reader, experiment_path, "client_key_file");
  if (config.client_cert_file.empty() != config.client_key_file.empty()) {
    reader.error_here(reader.name() + ": client_cert_file and client_key_file go together");
  }
  if (auto token_file = reader.string(token_key); token_file && !token_file->empty()) {
    auto token = read_secret_file(path_relative_to(experiment_path, *token_file), token_key);
    config.bearer_token = http_report(reader, token_key, std::move(token)).value_or("");
  }
  auto user = reader.string("basic_auth_user");
  auto password_file = reader.string("basic_auth_password_file");
  if (user.has_value() != password_file.has_value()) {
    reader.error_here(reader.name() + ": basic_auth_user and basic_auth_password_file go together");
  } else if (user) {
    config.basic_auth_user = *user;
    auto password = read_secret_file(path_relative_to(experiment_path, *password_file), "basic_auth_password_file");
    config.basic_auth_password = http_report(reader, "basic_auth_password_file", std::move(password)).value_or("");
    if (user->empty() || user->find(':') != std::string::npos) {
      reader.error_at(*reader.node("basic_auth_user"),
                      reader.name() + ".basic_auth_user: must be non-empty and without ':'");
    }
  }
  if (!config.bearer_token.empty() && !config.basic_auth_user.empty()) {
    reader.error_here(reader.name() + ": " + token_key + " and basic_auth_user exclude each other (one Authorization header)");
  }
  config.insecure = reader.boolean("insecure").value_or(false);
}

}  // namespace chaos::orchestrator
