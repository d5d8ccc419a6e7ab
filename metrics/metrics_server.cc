#include "metrics/metrics_server.h"

#include <httplib.h>

#include "metrics/text_format.h"

namespace chaos::metrics {

MetricsServer::MetricsServer(const Registry& registry)
    : registry_(registry), server_(std::make_unique<httplib::Server>()) {
  server_->Get("/metrics", [this](const httplib::Request&, httplib::Response& response) {
    response.set_content(serialize_text(registry_), kTextContentType);
  });
  server_->Get("/", [](const httplib::Request&, httplib::Response& response) {
    response.set_content("metrics at /metrics\n", "text/plain");
  });
}

MetricsServer::~MetricsServer() { stop(); }

Status MetricsServer::start(const std::string& host, int port) {
  if (port == 0) {
    port_ = server_->bind_to_any_port(host);
    if (port_ < 0) return unavailable("cannot bind metrics endpoint on " + host);
  } else {
    if (!server_->bind_to_port(host, port)) {
      return unavailable("cannot bind metrics endpoint on " + host + ":" + std::to_string(port) +
                         " (address in use or not local?)");
    }
    port_ = port;
  }
  thread_ = std::thread([this] { server_->listen_after_bind(); });
  return {};
}

void MetricsServer::stop() {
  if (thread_.joinable()) {
    server_->stop();
    thread_.join();
  }
}

StatusOr<std::pair<std::string, int>> split_host_port(const std::string& address, const std::string& what) {
  const auto colon = address.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == address.size()) {
    return invalid_argument(what + ": expected HOST:PORT, got '" + address + "'");
  }
  std::string host = address.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  const std::string port_text = address.substr(colon + 1);
  int port = 0;
  for (char c : port_text) {
    if (c < '0' || c > '9') return invalid_argument(what + ": port '" + port_text + "' is not a number");
    port = port * 10 + (c - '0');
    if (port > 65535) return invalid_argument(what + ": port " + port_text + " is out of range");
  }
  return std::make_pair(host, port);
}

}  // namespace chaos::metrics
