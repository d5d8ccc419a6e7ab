// Serves a Registry on GET /metrics over HTTP in its own thread.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <thread>

#include "common/status.h"
#include "metrics/registry.h"

namespace httplib {
class Server;
}

namespace chaos::metrics {

class MetricsServer {
 public:
  // Connections are served on at most `max_connection_threads` threads,
  // started on demand and gone again after 10 s without a connection: an
  // idle host process keeps none (cpp-httplib's own pool starts at least 8).
  // A keep-alive connection holds its thread while it is open.
  explicit MetricsServer(const Registry& registry, std::size_t max_connection_threads = 4);
  ~MetricsServer();
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  // Binds host:port (port 0 picks a free one) and starts serving.
  Status start(const std::string& host, int port);
  // The bound port, valid after a successful start().
  int port() const { return port_; }
  void stop();

 private:
  const Registry& registry_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  int port_ = 0;
};

}  // namespace chaos::metrics
