// Serves a Registry on GET /metrics over HTTP in its own thread.
#pragma once

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
  explicit MetricsServer(const Registry& registry);
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
