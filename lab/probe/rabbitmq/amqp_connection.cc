#include "lab/probe/rabbitmq/amqp_connection.h"

#include <amqp_tcp_socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include "lab/probe/rabbitmq/amqp_frames.h"

namespace chaos::lab::probe {
namespace {

// The default frame size RabbitMQ offers; the probe's bodies are tiny.
constexpr int kAmqpFrameMax = 131072;

}  // namespace

timeval amqp_timeval(Duration duration) {
  if (duration < Duration::zero()) duration = Duration::zero();
  const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(duration).count();
  return timeval{static_cast<time_t>(micros / 1000000), static_cast<suseconds_t>(micros % 1000000)};
}

Status AmqpConnection::open(const AmqpServer& server, const AmqpConnectionOptions& options) {
  close();
  host_port_ = amqp_host_port(server);
  state_ = amqp_new_connection();
  if (state_ == nullptr) return internal_error("AMQP connection to " + host_port_ + ": out of memory");
  amqp_socket_t* socket = amqp_tcp_socket_new(state_);
  if (socket == nullptr) {
    close();
    return internal_error("AMQP connection to " + host_port_ + ": cannot create the socket");
  }
  timeval connect_timeout = amqp_timeval(options.connect_timeout);
  const int opened = amqp_socket_open_noblock(socket, server.host.c_str(), server.port, &connect_timeout);
  if (opened != AMQP_STATUS_OK) {
    close();
    return unavailable("connect to " + host_port_ + ": " + amqp_error_string2(opened));
  }
  timeval rpc_timeout = amqp_timeval(options.rpc_timeout);
  if (amqp_set_handshake_timeout(state_, &connect_timeout) != AMQP_STATUS_OK ||
      amqp_set_rpc_timeout(state_, &rpc_timeout) != AMQP_STATUS_OK) {
    close();
    return internal_error("AMQP connection to " + host_port_ + ": cannot set the timeouts");
  }
  if (options.send_timeout > Duration::zero()) {
    const auto millis = static_cast<unsigned int>(
        std::chrono::duration_cast<std::chrono::milliseconds>(options.send_timeout).count());
    if (::setsockopt(amqp_get_sockfd(state_), IPPROTO_TCP, TCP_USER_TIMEOUT, &millis, sizeof(millis)) != 0) {
      close();
      return internal_error("AMQP connection to " + host_port_ + ": cannot set TCP_USER_TIMEOUT");
    }
  }
  // rabbitmq-c 0.11 advertises only authentication_failure_close; without
  // consumer_cancel_notify the server drops a deleted queue's consumer
  // silently, and without connection.blocked a blocked publisher is never
  // told why its publishes hang. The library merges this table into its own.
  AmqpClientCapabilities capabilities = amqp_client_capabilities();
  const amqp_table_t properties = capabilities.properties();
  const amqp_rpc_reply_t login =
      amqp_login_with_properties(state_, server.vhost.c_str(), 0, kAmqpFrameMax, options.heartbeat_seconds,
                                 &properties, AMQP_SASL_METHOD_PLAIN, server.user.c_str(), server.password.c_str());
  if (login.reply_type != AMQP_RESPONSE_NORMAL) {
    const std::string reason = amqp_describe_reply(login);
    close();
    return unavailable("login to " + host_port_ + " as " + server.user + " (vhost " + server.vhost + "): " + reason);
  }
  amqp_channel_open(state_, kChannel);
  return check(amqp_get_rpc_reply(state_), "channel.open");
}

void AmqpConnection::close() {
  if (state_ == nullptr) return;
  amqp_destroy_connection(state_);  // closes the socket
  state_ = nullptr;
}

Status AmqpConnection::check(const amqp_rpc_reply_t& reply, std::string_view what) {
  if (reply.reply_type == AMQP_RESPONSE_NORMAL) return {};
  const std::string message = std::string(what) + " on " + host_port_ + ": " + amqp_describe_reply(reply);
  if (reply.reply_type == AMQP_RESPONSE_SERVER_EXCEPTION && reply.reply.id == AMQP_CHANNEL_CLOSE_METHOD &&
      state_ != nullptr) {
    amqp_channel_close_ok_t close_ok{};
    if (amqp_send_method(state_, kChannel, AMQP_CHANNEL_CLOSE_OK_METHOD, &close_ok) == AMQP_STATUS_OK) {
      amqp_channel_open(state_, kChannel);
      if (amqp_get_rpc_reply(state_).reply_type == AMQP_RESPONSE_NORMAL) return unavailable(message);
    }
  } else if (reply.reply_type == AMQP_RESPONSE_SERVER_EXCEPTION && reply.reply.id == AMQP_CONNECTION_CLOSE_METHOD &&
             state_ != nullptr) {
    amqp_connection_close_ok_t close_ok{};
    (void)amqp_send_method(state_, 0, AMQP_CONNECTION_CLOSE_OK_METHOD, &close_ok);
  }
  close();
  return unavailable(message);
}

Status AmqpConnection::closed_by_server(const amqp_method_t& method, std::string_view what) {
  const bool whole_connection = method.id == AMQP_CONNECTION_CLOSE_METHOD;
  const std::string message = std::string(what) + ": " + host_port_ + " closed the " +
                              (whole_connection ? "connection: " : "channel: ") + amqp_describe_close(method);
  if (state_ != nullptr) {
    if (whole_connection) {
      amqp_connection_close_ok_t close_ok{};
      (void)amqp_send_method(state_, 0, AMQP_CONNECTION_CLOSE_OK_METHOD, &close_ok);
    } else {
      amqp_channel_close_ok_t close_ok{};
      (void)amqp_send_method(state_, kChannel, AMQP_CHANNEL_CLOSE_OK_METHOD, &close_ok);
    }
  }
  close();
  return unavailable(message);
}

Status AmqpConnection::ensure_queue(const std::string& queue, bool& created) {
  created = false;
  const amqp_bytes_t name = amqp_cstring_bytes(queue.c_str());
  amqp_queue_declare(state_, kChannel, name, /*passive=*/1, /*durable=*/1, 0, 0, amqp_empty_table);
  const amqp_rpc_reply_t passive = amqp_get_rpc_reply(state_);
  if (passive.reply_type == AMQP_RESPONSE_NORMAL) return {};
  const bool missing = passive.reply_type == AMQP_RESPONSE_SERVER_EXCEPTION &&
                       passive.reply.id == AMQP_CHANNEL_CLOSE_METHOD &&
                       static_cast<const amqp_channel_close_t*>(passive.reply.decoded)->reply_code == 404;
  const Status lookup = check(passive, "queue.declare (passive) " + queue);
  if (!missing || !is_open()) return lookup;
  AmqpQueueArguments arguments = amqp_quorum_queue_arguments();
  amqp_queue_declare(state_, kChannel, name, 0, /*durable=*/1, 0, 0, arguments.table());
  CHAOS_RETURN_IF_ERROR(check(amqp_get_rpc_reply(state_), "queue.declare " + queue));
  created = true;
  return {};
}

}  // namespace chaos::lab::probe
