// One AMQP 0-9-1 connection (rabbitmq-c, synchronous API) with its one
// channel: TCP connect, login and channel.open, every step bounded by a
// timeout so a paused (SIGSTOP) server cannot hang the probe; heartbeats
// negotiated at login. Not thread-safe: each of the driver's threads owns
// its own connection.
#pragma once

#include <amqp.h>

#include <chrono>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "common/status.h"
#include "lab/probe/rabbitmq/amqp_url.h"

namespace chaos::lab::probe {

struct AmqpConnectionOptions {
  // AMQP heartbeat in seconds (--ping-interval): the library drops a
  // connection whose server was silent for two heartbeats.
  int heartbeat_seconds = 1;
  // TCP connect, then the login handshake, each at most this long.
  Duration connect_timeout = std::chrono::seconds(2);
  // Every synchronous RPC (channel.open, queue.declare, basic.qos, ...).
  Duration rpc_timeout = std::chrono::seconds(2);
  // TCP_USER_TIMEOUT on the socket (zero: the kernel's default): how long
  // sent data may stay unacknowledged before the kernel drops the
  // connection. Bounds amqp_basic_publish / amqp_basic_ack on a server that
  // stopped reading its socket (a memory alarm) while its heartbeats, sent
  // from another process, still arrive.
  Duration send_timeout = Duration::zero();
};

// A timeval for the library's timeouts; negative durations become zero.
timeval amqp_timeval(Duration duration);

class AmqpConnection {
 public:
  static constexpr amqp_channel_t kChannel = 1;

  AmqpConnection() = default;
  ~AmqpConnection() { close(); }
  AmqpConnection(const AmqpConnection&) = delete;
  AmqpConnection& operator=(const AmqpConnection&) = delete;

  // Connects, logs in (advertising the capabilities below) and opens
  // channel kChannel; on failure nothing stays open and the error names
  // HOST:PORT.
  Status open(const AmqpServer& server, const AmqpConnectionOptions& options);
  // Drops the connection (the socket closes, so the server requeues
  // anything unacknowledged). No close handshake: on a paused server it
  // would wait for the RPC timeout, and nothing is owed to the server.
  void close();
  bool is_open() const { return state_ != nullptr; }
  amqp_connection_state_t state() { return state_; }
  const std::string& host_port() const { return host_port_; }

  // Checks the reply of the RPC just made. A server exception is answered
  // with close-ok; a channel exception reopens the channel (so a passive
  // declare of a missing queue can be followed by a real one); a
  // connection exception or a library error closes the connection. The
  // error names `what`, HOST:PORT and the server's reply text.
  Status check(const amqp_rpc_reply_t& reply, std::string_view what);
  // Answers a connection.close or channel.close read as a frame (outside an
  // RPC) and closes the connection; returns the error naming the reply.
  Status closed_by_server(const amqp_method_t& method, std::string_view what);

  // Declares `queue` durable with the quorum arguments unless it exists
  // (a passive declare first, so the arguments of a queue declared by
  // someone else are never compared); sets `created`.
  Status ensure_queue(const std::string& queue, bool& created);

 private:
  amqp_connection_state_t state_ = nullptr;
  std::string host_port_;
};

}  // namespace chaos::lab::probe
