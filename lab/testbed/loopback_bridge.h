// Reaches a server that listens on 127.0.0.1 inside another network
// namespace (a chaos-agent started with `ip netns exec`) from this process's
// namespace: listens on 127.0.0.1:<ephemeral> here and forwards each
// connection, byte for byte, to 127.0.0.1:<target_port> there.
//
// Why not setns() the test thread and dial directly: gRPC opens its sockets
// on its own threads, which keep the namespace they were created in, so which
// namespace a channel would land in depends on gRPC's thread pool. Here only
// the bridge's own thread enters the namespace, to create the outgoing
// sockets; a socket stays in the namespace it was created in.
#pragma once

#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace chaos::agent::integration {

class LoopbackBridge {
 public:
  LoopbackBridge(const std::string& netns, int target_port);
  ~LoopbackBridge();
  LoopbackBridge(const LoopbackBridge&) = delete;
  LoopbackBridge& operator=(const LoopbackBridge&) = delete;

  // "" when listening; else what failed.
  const std::string& error() const { return error_; }
  int port() const { return port_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

 private:
  void accept_loop(int netns_fd);
  void pump(int a, int b);

  int target_port_;
  int listen_fd_ = -1;
  int stop_fd_ = -1;  // eventfd: readable once the bridge is being destroyed
  int port_ = 0;
  std::string error_;
  std::thread acceptor_;
  std::mutex mutex_;
  std::vector<std::thread> pumps_;  // guarded by mutex_
};

}  // namespace chaos::agent::integration
