// A cpp-httplib server a unit test stands up in place of a peer (Prometheus,
// a webhook, the Docker API, RabbitMQ's management API). The test adds its
// routes to routes(), then calls a listen_* function, which returns once the
// accept loop runs: a stop() before that would be lost and the join hang.
//
// A handler standing in for a peer that never answers calls
// hold_until_closing(); one that trickles checks closing(). Destroying the
// server (or stop()) releases them, stops it and joins its thread, so a test
// that fails half-way still ends. Declare it after every member its handlers
// use, so that it is destroyed, and its handlers done, before them.
// Header-only: the tests that use it link cpp-httplib already.
#pragma once

#include <httplib.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

namespace chaos::test_support {

class TestHttpServer {
 public:
  TestHttpServer() = default;
  TestHttpServer(const TestHttpServer&) = delete;
  TestHttpServer& operator=(const TestHttpServer&) = delete;
  ~TestHttpServer() { stop(); }

  httplib::Server& routes() { return server_; }

  // 127.0.0.1 on a port the kernel picks; false when it cannot listen.
  bool listen_on_loopback() {
    port_ = server_.bind_to_any_port("127.0.0.1");
    return port_ > 0 && serve();
  }

  // A Unix socket at `path` (the Docker API's way).
  bool listen_on_unix_socket(const std::string& path) {
    server_.set_address_family(AF_UNIX);
    return server_.bind_to_port(path, 80) && serve();
  }

  int port() const { return port_; }
  std::string url(const std::string& path = "") const { return "http://127.0.0.1:" + std::to_string(port_) + path; }

  // Blocks the calling handler until the server is stopped.
  void hold_until_closing() {
    std::unique_lock lock(mutex_);
    released_.wait(lock, [this] { return closing_; });
  }

  bool closing() const {
    std::lock_guard lock(mutex_);
    return closing_;
  }

  void stop() {
    {
      std::lock_guard lock(mutex_);
      closing_ = true;
    }
    released_.notify_all();
    server_.stop();
    if (thread_.joinable()) thread_.join();
  }

 private:
  bool serve() {
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!server_.is_running() && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return server_.is_running();
  }

  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
  mutable std::mutex mutex_;
  std::condition_variable released_;
  bool closing_ = false;
};

}  // namespace chaos::test_support
