#include "metrics/metrics_server.h"

#include <httplib.h>

#include <sys/socket.h>

#include <cstdio>
#include <exception>

#include "common/worker_pool.h"
#include "metrics/text_format.h"
#include "common/thread_name.h"

namespace chaos::metrics {
namespace {

// cpp-httplib's task queue on our WorkerPool: threads only while there are
// connections to serve.
class OnDemandTaskQueue final : public httplib::TaskQueue {
 public:
  explicit OnDemandTaskQueue(std::size_t max_threads)
      : pool_({max_threads, 64, std::chrono::seconds(10), [](const std::string& line) {
                 std::fprintf(stderr, "metrics server: %s\n", line.c_str());
               }}) {}

  void enqueue(std::function<void()> task) override {
    // The task owns the accepted socket and closes it: a task the pool
    // refuses (queue full) runs here, on the accepting thread, rather than
    // leak the socket.
    if (pool_.submit(task)) return;
    try {
      task();
    } catch (const std::exception& error) {
      std::fprintf(stderr, "metrics server: connection failed: %s\n", error.what());
    } catch (...) {
      std::fprintf(stderr, "metrics server: connection failed with a non-exception\n");
    }
  }
  void shutdown() override { pool_.stop(); }

 private:
  WorkerPool pool_;
};

}  // namespace

MetricsServer::MetricsServer(const Registry& registry, std::size_t max_connection_threads)
    : registry_(registry), server_(std::make_unique<httplib::Server>()) {
  // cpp-httplib binds with SO_REUSEPORT: a second process on the same port
  // would share it, and Prometheus's scrapes would alternate between them.
  // SO_REUSEADDR alone still allows a restart while old connections linger.
  server_->set_socket_options([](int socket) {
    const int yes = 1;
    ::setsockopt(socket, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });
  server_->new_task_queue = [max_connection_threads] { return new OnDemandTaskQueue(max_connection_threads); };
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
    set_current_thread_name("chaos-metrics");
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
