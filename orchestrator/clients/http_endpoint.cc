// HttpEndpoint over cpp-httplib. Debian's libcpp-httplib is the compiled
// library built with CPPHTTPLIB_OPENSSL_SUPPORT (its pkg-config Cflags
// define it), so httplib::Client speaks https:// through OpenSSL 3 with no
// extra build flags here.
#include "orchestrator/clients/http_endpoint.h"

#include <httplib.h>
#include <openssl/x509.h>

#include <mutex>

#include "common/url_encode.h"

namespace chaos::orchestrator {

namespace {

std::string http_form_encode(const std::vector<std::pair<std::string, std::string>>& fields) {
  std::string out;
  for (const auto& [name, value] : fields) {
    if (!out.empty()) out += '&';
    out += url_encode(name) + '=' + url_encode(value);
  }
  return out;
}

// The answers worth naming in an error; the number says the rest.
const char* http_reason_phrase(int status) {
  switch (status) {
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 413: return "Content Too Large";
    case 422: return "Unprocessable Content";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "";
  }
}

std::string http_timeout_text(std::chrono::milliseconds timeout) {
  const auto ms = timeout.count();
  return ms % 1000 == 0 ? std::to_string(ms / 1000) + "s" : std::to_string(ms) + "ms";
}

class HttplibEndpoint final : public HttpEndpoint {
 public:
  HttplibEndpoint(const HttpEndpointConfig& config, HttpUrl url)
      : config_(config),
        url_(std::move(url)),
        client_(url_.origin, config.client_cert_file, config.client_key_file) {
    client_.set_connection_timeout(config.timeout);
    client_.set_read_timeout(config.timeout);
    client_.set_write_timeout(config.timeout);
    if (!config.bearer_token.empty()) client_.set_bearer_token_auth(config.bearer_token);
    if (!config.basic_auth_user.empty()) client_.set_basic_auth(config.basic_auth_user, config.basic_auth_password);
    if (url_.scheme == "https") {
      client_.enable_server_certificate_verification(true);
      if (!config.ca_file.empty()) client_.set_ca_cert_path(config.ca_file);
    }
    httplib::Headers headers;
    for (const auto& [name, value] : config.headers) headers.emplace(name, value);
    client_.set_default_headers(std::move(headers));
  }

  std::string url_of(const std::string& path) const override {
    if (config_.url_is_secret) return url_.origin + "/<path from url_file>";
    return url_.scheme + "://" + authority() + url_.path_prefix + path;
  }

  StatusOr<HttpReply> get(const std::string& path) override { return send("GET", path, "", ""); }

  // httplib's stop() only shuts the socket down, which is safe while
  // send() runs on another thread (and holds mutex_, so not taken here).
  void abort_in_flight() override { client_.stop(); }

  StatusOr<HttpReply> post_form(const std::string& path,
                                const std::vector<std::pair<std::string, std::string>>& fields) override {
    return send("POST", path, http_form_encode(fields), "application/x-www-form-urlencoded");
  }

  StatusOr<HttpReply> post(const std::string& path, const std::string& body,
                           const std::string& content_type) override {
    return send("POST", path, body, content_type);
  }

 private:
  std::string authority() const {
    const auto scheme_end = url_.origin.find("://") + 3;
    return url_.origin.substr(scheme_end);
  }

  StatusOr<HttpReply> send(const std::string& method, const std::string& path, const std::string& body,
                           const std::string& content_type) {
    std::lock_guard lock(mutex_);
    httplib::Request request;
    request.method = method;
    request.path = url_.path_prefix + path;
    if (request.path.empty()) request.path = "/";
    if (!content_type.empty()) request.set_header("Content-Type", content_type);
    request.body = body;
    std::string received;
    bool too_large = false;
    request.content_receiver = [&](const char* data, size_t length, uint64_t, uint64_t) {
      if (received.size() + length > config_.max_reply_bytes) return !(too_large = true);
      received.append(data, length);
      return true;
    };
    httplib::Response response;
    httplib::Error error = httplib::Error::Success;
    const std::string where = method + " " + url_of(path);
    if (!client_.send(request, response, error)) {
      if (too_large) {
        return resource_exhausted(where + ": the answer is larger than " +
                                  std::to_string(config_.max_reply_bytes) + " bytes");
      }
      return unavailable(where + ": " + explain(error));
    }
    return HttpReply{response.status, std::move(received)};
  }

  std::string explain(httplib::Error error) const {
    switch (error) {
      case httplib::Error::Connection:
        return "cannot connect";
      case httplib::Error::ConnectionTimeout:
        return "no connection within " + http_timeout_text(config_.timeout);
      case httplib::Error::Read:
        return "no (complete) answer within " + http_timeout_text(config_.timeout);
      case httplib::Error::Write:
        return "sending the request failed or took longer than " + http_timeout_text(config_.timeout);
      case httplib::Error::SSLConnection:
        return "TLS handshake failed";
      case httplib::Error::SSLLoadingCerts:
        return "TLS: cannot load " + (config_.ca_file.empty() ? "the system's CA certificates" : "ca_file '" + config_.ca_file + "'") +
               (config_.client_cert_file.empty() ? "" : " or the client certificate '" + config_.client_cert_file + "'");
      case httplib::Error::SSLServerVerification: {
        const long result = client_.get_openssl_verify_result();
        return "TLS: the server's certificate does not verify against " +
               (config_.ca_file.empty() ? std::string("the system's CA certificates") : "ca_file '" + config_.ca_file + "'") +
               (result != 0 ? std::string(" (") + X509_verify_cert_error_string(result) + ")"
                            : std::string(" (its name does not match the host ") + url_.host + ")");
      }
      default:
        return httplib::to_string(error);
    }
  }

  HttpEndpointConfig config_;
  HttpUrl url_;
  std::mutex mutex_;  // httplib::Client is not safe for concurrent requests
  httplib::Client client_;
};

}  // namespace

StatusOr<std::unique_ptr<HttpEndpoint>> HttpEndpoint::create(const HttpEndpointConfig& config) {
  auto url = parse_http_url(config.url);
  if (!url.ok()) return url.status();
  const std::string plaintext = plaintext_credentials_problem(config);
  if (!plaintext.empty()) return invalid_argument((config.url_is_secret ? url->origin : config.url) + ": " + plaintext);
  return std::unique_ptr<HttpEndpoint>(std::make_unique<HttplibEndpoint>(config, std::move(*url)));
}

std::string describe_reply(const HttpReply& reply) {
  std::string text = "HTTP " + std::to_string(reply.status);
  const char* reason = http_reason_phrase(reply.status);
  if (*reason != '\0') text += std::string(" ") + reason;
  if (!reply.body.empty()) {
    std::string body = reply.body.substr(0, 200);
    for (auto& c : body) {
      if (c == '\n' || c == '\r') c = ' ';
    }
    text += ": " + body;
  }
  return text;
}

}  // namespace chaos::orchestrator
