#include "metrics/metrics_server.h"

#include <httplib.h>

#include <cstdio>
#include <exception>

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
  thread_ = std::thread([this] {
    // /metrics is an observer: its failure must never end the process that
    // hosts it (the agent, with live faults to revert).
    try {
      server_->listen_after_bind();
    } catch (const std::exception& error) {
      std::fprintf(stderr, "metrics server stopped: %s\n", error.what());
    }
  });
  return {};
}

void MetricsServer::stop() {
  if (thread_.joinable()) {
    server_->stop();
    thread_.join();
  }
}

}  // namespace chaos::metrics
