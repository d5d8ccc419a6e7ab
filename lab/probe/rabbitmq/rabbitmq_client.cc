#include "lab/probe/rabbitmq/rabbitmq_client.h"

#include <algorithm>
#include <random>

#include "common/duration.h"
#include "lab/probe/probe_log.h"
#include "lab/probe/rabbitmq/amqp_frames.h"

namespace chaos::lab::probe {
namespace {

SteadyTime rabbitmq_now() { return std::chrono::steady_clock::now(); }

constexpr const char* kRabbitmqBlockedMessage = "the broker blocked publishers: memory or disk alarm";

std::vector<AmqpServer> rabbitmq_parse_servers(const SessionSettings& session) {
  std::vector<AmqpServer> servers;
  for (const auto& url : session.servers) {
    auto server = parse_amqp_url(url);
    if (server.ok()) servers.push_back(*server);
  }
  if (session.randomize) std::shuffle(servers.begin(), servers.end(), std::mt19937(std::random_device()()));
  return servers;
}

std::string rabbitmq_bytes(amqp_bytes_t bytes) {
  return bytes.len == 0 ? std::string() : std::string(static_cast<const char*>(bytes.bytes), bytes.len);
}

}  // namespace

RabbitMqClient::RabbitMqClient(ProbeMetrics& metrics, const SessionSettings& session, RabbitMqSettings settings)
    : metrics_(metrics), servers_(rabbitmq_parse_servers(session)), settings_(std::move(settings)) {}

std::size_t RabbitMqClient::server_after(std::size_t index) const {
  return (index + 1) % std::max<std::size_t>(servers_.size(), 1);
}

Status RabbitMqClient::connect() {
  std::lock_guard lock(publisher_mutex_);
  if (publisher_.is_open()) return {};
  return open_publisher(settings_.connection.connect_timeout);
}

// One server per call (the one at publisher_index_; a failure moves the
// index on), so a publish never waits for more than one connect timeout.
Status RabbitMqClient::open_publisher(Duration budget) {
  if (servers_.empty()) return invalid_argument("--servers: no valid amqp:// URL");
  const std::size_t index = publisher_index_;
  preferred_index_ = index;
  AmqpConnectionOptions options = settings_.connection;
  budget = std::max<Duration>(budget, std::chrono::seconds(1));
  options.connect_timeout = std::min(options.connect_timeout, budget);
  options.rpc_timeout = std::min(options.rpc_timeout, budget);
  Status status = publisher_.open(servers_[index], options);
  bool created = false;
  if (status.ok()) status = publisher_.ensure_queue(settings_.queue, created);
  if (status.ok()) {
    amqp_confirm_select(publisher_.state(), AmqpConnection::kChannel);
    status = publisher_.check(amqp_get_rpc_reply(publisher_.state()), "confirm.select");
  }
  if (!status.ok()) {
    publisher_.close();
    publisher_index_ = server_after(index);
    return status;
  }
  if (created && queue_declared_.exchange(true)) note_queue_recreated();
  queue_declared_ = true;
  next_tag_ = 1;
  publisher_blocked_ = false;
  metrics_.connected.set(1);
  if (publisher_lost_) metrics_.reconnects.inc();
  publisher_lost_ = false;
  return {};
}

Status RabbitMqClient::lose_publisher(Status status) {
  if (publisher_.is_open()) publisher_.close();
  if (!publisher_lost_) metrics_.disconnects.inc();
  publisher_lost_ = true;
  metrics_.connected.set(0);
  // A dead connection's server is skipped: the next publish tries the next.
  publisher_index_ = server_after(publisher_index_);
  return status;
}

Status RabbitMqClient::publish(std::string_view body, Duration ack_timeout, std::string_view message_id) {
  std::lock_guard lock(publisher_mutex_);
  // --ack-timeout bounds the whole publish, a reconnect included.
  const SteadyTime deadline = rabbitmq_now() + ack_timeout;
  if (!publisher_.is_open()) {
    if (Status opened = open_publisher(deadline - rabbitmq_now()); !opened.ok()) {
      return unavailable("publish: not connected: " + opened.message());
    }
  }
  if (publisher_blocked_) CHAOS_RETURN_IF_ERROR(wait_until_unblocked(deadline));
  amqp_maybe_release_buffers(publisher_.state());
  const std::string id(message_id);
  amqp_basic_properties_t properties{};
  properties._flags = AMQP_BASIC_DELIVERY_MODE_FLAG;
  properties.delivery_mode = 2;  // persistent
  if (!id.empty()) {
    properties._flags |= AMQP_BASIC_MESSAGE_ID_FLAG;
    properties.message_id = amqp_cstring_bytes(id.c_str());
  }
  amqp_bytes_t content{body.size(), const_cast<char*>(body.data())};
  const int sent = amqp_basic_publish(publisher_.state(), AmqpConnection::kChannel, amqp_empty_bytes,
                                      amqp_cstring_bytes(settings_.queue.c_str()), /*mandatory=*/1,
                                      /*immediate=*/0, &properties, content);
  if (sent != AMQP_STATUS_OK) {
    return lose_publisher(unavailable("publish to " + publisher_.host_port() + ": " + amqp_error_string2(sent)));
  }
  const std::uint64_t tag = next_tag_++;
  return wait_for_confirm(tag, deadline, ack_timeout);
}

// Reads frames until the confirm for `tag` (late confirms of publishes that
// had timed out are skipped), a close from the server, or the deadline.
Status RabbitMqClient::wait_for_confirm(std::uint64_t tag, SteadyTime deadline, Duration ack_timeout) {
  const std::string where = publisher_.host_port();
  AmqpConfirmWait confirm(tag);
  std::string returned;
  while (true) {
    timeval remaining = amqp_timeval(deadline - rabbitmq_now());
    amqp_frame_t frame;
    const int status = amqp_simple_wait_frame_noblock(publisher_.state(), &frame, &remaining);
    if (status == AMQP_STATUS_TIMEOUT) {
      if (publisher_blocked_) return unavailable("publish to " + where + ": " + kRabbitmqBlockedMessage);
      return deadline_exceeded("no publisher confirm from " + where + " within " + format_duration(ack_timeout));
    }
    if (status == AMQP_STATUS_HEARTBEAT_TIMEOUT) {
      // A paused server: the confirm will not come, and the connection is
      // dropped like any other that missed two heartbeats.
      return lose_publisher(deadline_exceeded("no publisher confirm from " + where +
                                              ": the server missed two heartbeats, connection dropped"));
    }
    if (status != AMQP_STATUS_OK) {
      return lose_publisher(
          unavailable("waiting for the publisher confirm from " + where + ": " + amqp_error_string2(status)));
    }
    if (frame.frame_type != AMQP_FRAME_METHOD) continue;  // a returned message's header and body
    const amqp_method_t& method = frame.payload.method;
    AmqpConfirmStep step = AmqpConfirmStep::kWait;
    if (method.id == AMQP_BASIC_ACK_METHOD) {
      const auto* ack = static_cast<const amqp_basic_ack_t*>(method.decoded);
      step = confirm.on_ack(ack->delivery_tag, ack->multiple != 0);
    } else if (method.id == AMQP_BASIC_NACK_METHOD) {
      const auto* nack = static_cast<const amqp_basic_nack_t*>(method.decoded);
      step = confirm.on_nack(nack->delivery_tag, nack->multiple != 0);
    } else if (method.id == AMQP_BASIC_RETURN_METHOD) {
      const auto* returned_method = static_cast<const amqp_basic_return_t*>(method.decoded);
      returned = "publish returned unroutable by " + where + ": " + std::to_string(returned_method->reply_code) +
                 " " + rabbitmq_bytes(returned_method->reply_text) + " (queue " + settings_.queue + " missing)";
      confirm.on_return();
    } else if (method.id == AMQP_CONNECTION_CLOSE_METHOD || method.id == AMQP_CHANNEL_CLOSE_METHOD) {
      return lose_publisher(publisher_.closed_by_server(method, "publish"));
    } else {
      note_blocking(method);
    }
    switch (step) {
      case AmqpConfirmStep::kWait: continue;
      case AmqpConfirmStep::kAcked: return {};
      case AmqpConfirmStep::kNacked: return unavailable("publish nacked by " + where + ": the queue could not store it");
      case AmqpConfirmStep::kReturned:
        // The queue is gone. Only a declare brings it back, and the
        // publisher declares when it opens: close it (not a lost
        // connection) so the next publish reopens and declares.
        publisher_.close();
        metrics_.connected.set(0);
        ++queue_generation_;  // the consumer's queue is gone too
        return not_found(returned);
    }
  }
}

bool RabbitMqClient::note_blocking(const amqp_method_t& method) {
  if (method.id == AMQP_CONNECTION_BLOCKED_METHOD) {
    if (!publisher_blocked_) probe_log("publisher on " + publisher_.host_port() + ": " + kRabbitmqBlockedMessage);
    publisher_blocked_ = true;
    return true;
  }
  if (method.id == AMQP_CONNECTION_UNBLOCKED_METHOD) {
    if (publisher_blocked_) probe_log("publisher on " + publisher_.host_port() + ": the broker unblocked publishers");
    publisher_blocked_ = false;
    return true;
  }
  return false;
}

// A blocked connection's server reads nothing we send: publishing would only
// fill the socket. Wait for connection.unblocked instead, within the publish's
// deadline; the connection stays (heartbeats still flow).
Status RabbitMqClient::wait_until_unblocked(SteadyTime deadline) {
  const std::string where = publisher_.host_port();
  while (publisher_blocked_) {
    timeval remaining = amqp_timeval(deadline - rabbitmq_now());
    amqp_frame_t frame;
    const int status = amqp_simple_wait_frame_noblock(publisher_.state(), &frame, &remaining);
    if (status == AMQP_STATUS_TIMEOUT) return unavailable("publish to " + where + ": " + kRabbitmqBlockedMessage);
    if (status != AMQP_STATUS_OK) {
      return lose_publisher(unavailable("publish to " + where + " (blocked): " + amqp_error_string2(status)));
    }
    if (frame.frame_type != AMQP_FRAME_METHOD) continue;
    const amqp_method_t& method = frame.payload.method;
    if (method.id == AMQP_CONNECTION_CLOSE_METHOD || method.id == AMQP_CHANNEL_CLOSE_METHOD) {
      return lose_publisher(publisher_.closed_by_server(method, "publish"));
    }
    note_blocking(method);  // late confirms of timed-out publishes are skipped
  }
  return {};
}

void RabbitMqClient::note_queue_recreated() {
  metrics_.consumer_recreations.inc();
  probe_log("queue " + settings_.queue +
            " was gone and has been re-created; messages stored meanwhile will be counted as lost");
}

std::string RabbitMqClient::current_server() {
  std::lock_guard lock(publisher_mutex_);
  return publisher_.is_open() ? publisher_.host_port() : std::string();
}

StatusOr<FailedOver> RabbitMqClient::fail_over() {
  std::lock_guard lock(publisher_mutex_);
  FailedOver moved;
  if (publisher_.is_open()) {
    moved.from = publisher_.host_port();
    publisher_.close();
    publisher_index_ = server_after(publisher_index_);
  }
  metrics_.connected.set(0);
  const bool was_lost = publisher_lost_;
  publisher_lost_ = false;  // a forced move is not a reconnect
  if (open_publisher(settings_.connection.connect_timeout).ok()) {
    moved.to = publisher_.host_port();
  } else {
    publisher_lost_ = was_lost;
    preferred_index_ = publisher_index_;
  }
  return moved;
}

StatusOr<Subscribed> RabbitMqClient::open_consumer() {
  if (servers_.empty()) return invalid_argument("--servers: no valid amqp:// URL");
  const std::size_t index = consumer_index_;
  consumed_generation_ = queue_generation_.load();
  last_consumer_check_ = rabbitmq_now();
  bool created = false;
  Status status = consumer_.open(servers_[index], settings_.connection);
  if (status.ok()) status = consumer_.ensure_queue(settings_.queue, created);
  if (status.ok()) {
    amqp_basic_qos(consumer_.state(), AmqpConnection::kChannel, 0, static_cast<std::uint16_t>(settings_.prefetch), 0);
    status = consumer_.check(amqp_get_rpc_reply(consumer_.state()), "basic.qos");
  }
  if (status.ok()) {
    amqp_basic_consume(consumer_.state(), AmqpConnection::kChannel, amqp_cstring_bytes(settings_.queue.c_str()),
                       amqp_empty_bytes, /*no_local=*/0, /*no_ack=*/0, /*exclusive=*/0, amqp_empty_table);
    status = consumer_.check(amqp_get_rpc_reply(consumer_.state()), "basic.consume " + settings_.queue);
  }
  if (!status.ok()) {
    consumer_.close();
    consumer_index_ = server_after(index);
    return status;
  }
  if (consumer_lost_) metrics_.reconnects.inc();
  consumer_lost_ = false;
  queue_declared_ = true;
  return created ? Subscribed::kCreated : Subscribed::kBound;
}

Status RabbitMqClient::lose_consumer(Status status) {
  consumer_.close();
  if (!consumer_lost_) metrics_.disconnects.inc();
  consumer_lost_ = true;
  consumer_index_ = server_after(consumer_index_);
  return status;
}

StatusOr<Subscribed> RabbitMqClient::subscribe() {
  drop_subscription();
  // Start where the publisher is: after a failover both use the new server.
  consumer_index_ = preferred_index_.load() % std::max<std::size_t>(servers_.size(), 1);
  auto subscribed = open_consumer();
  if (!subscribed.ok()) return subscribed.status();
  subscribed_ = true;
  return subscribed;
}

void RabbitMqClient::drop_subscription() {
  consumer_.close();
  subscribed_ = false;
}

StatusOr<std::vector<Delivered>> RabbitMqClient::fetch(int batch, Duration wait) {
  if (!subscribed_) return failed_precondition("fetch before subscribe");
  if (!consumer_.is_open()) {
    // The connection died in an earlier fetch: consume again on the next
    // server (the queue is durable, nothing was lost with the connection).
    auto reopened = open_consumer();
    if (!reopened.ok()) return unavailable("consumer not connected: " + reopened.status().message());
    // subscribe() reports a created queue to the loops; a reopen here
    // counts it itself.
    if (*reopened == Subscribed::kCreated) note_queue_recreated();
  }
  std::vector<Delivered> deliveries;
  if (consumed_generation_ != queue_generation_.load()) {
    // RabbitMQ 3.10 drops the consumers of a deleted quorum queue without a
    // basic.cancel: the publisher's basic.return is the news.
    probe_log("consumer on " + consumer_.host_port() + ": queue " + settings_.queue +
              " was deleted (a publish came back unroutable); subscribing again");
    consumer_.close();
    auto reopened = open_consumer();
    if (!reopened.ok()) return unavailable("consumer not connected: " + reopened.status().message());
    if (*reopened == Subscribed::kCreated) note_queue_recreated();
  } else if (rabbitmq_now() - last_consumer_check_ >= kConsumerCheckInterval) {
    CHAOS_RETURN_IF_ERROR(check_consumed_queue());
  }
  for (int i = 0; i < batch; ++i) {
    // The first message may take up to `wait`; the rest only if already here.
    auto more = consume_one(i == 0 ? wait : Duration::zero(), deliveries);
    if (!more.ok()) {
      // What was delivered stays delivered; the error shows at the next
      // fetch, which reopens the connection.
      if (deliveries.empty()) return more.status();
      break;
    }
    if (!*more) break;
  }
  if (!deliveries.empty()) last_consumer_check_ = rabbitmq_now();  // alive: no check needed
  return deliveries;
}

// RabbitMQ 3.10 sent no basic.cancel for a deleted quorum queue in our test
// (consumer_cancel_notify advertised): the consumer just stops receiving.
// The publisher's basic.return tells fetch(); without publishes, after
// kConsumerCheckInterval without a delivery a passive declare on the
// consumer's channel asks whether the queue exists, and a missing one is
// declared again (a new connection) and consumed from.
Status RabbitMqClient::check_consumed_queue() {
  last_consumer_check_ = rabbitmq_now();
  const amqp_queue_declare_ok_t* declared =
      amqp_queue_declare(consumer_.state(), AmqpConnection::kChannel, amqp_cstring_bytes(settings_.queue.c_str()),
                         /*passive=*/1, /*durable=*/1, 0, 0, amqp_empty_table);
  const amqp_rpc_reply_t reply = amqp_get_rpc_reply(consumer_.state());
  if (reply.reply_type == AMQP_RESPONSE_NORMAL && declared != nullptr) return {};
  const bool missing = reply.reply_type == AMQP_RESPONSE_SERVER_EXCEPTION &&
                       reply.reply.id == AMQP_CHANNEL_CLOSE_METHOD &&
                       static_cast<const amqp_channel_close_t*>(reply.reply.decoded)->reply_code == 404;
  if (reply.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION && reply.library_error == AMQP_STATUS_HEARTBEAT_TIMEOUT) {
    return lose_consumer(unavailable("consume from " + consumer_.host_port() +
                                     ": the server missed two heartbeats, connection dropped"));
  }
  if (!missing) return lose_consumer(consumer_.check(reply, "queue.declare (passive) " + settings_.queue));
  probe_log("consumer on " + consumer_.host_port() + ": queue " + settings_.queue + " is gone; subscribing again");
  consumer_.close();  // the server closed the channel, and with it the consumer
  auto reopened = open_consumer();
  if (!reopened.ok()) return unavailable("consumer not connected: " + reopened.status().message());
  if (*reopened == Subscribed::kCreated) note_queue_recreated();
  return {};
}

// True when a delivery was added; false when none came within `wait`; an
// error when the connection was lost (and closed).
StatusOr<bool> RabbitMqClient::consume_one(Duration wait, std::vector<Delivered>& deliveries) {
  amqp_maybe_release_buffers(consumer_.state());
  timeval timeout = amqp_timeval(wait);
  amqp_envelope_t envelope;
  const amqp_rpc_reply_t reply = amqp_consume_message(consumer_.state(), &envelope, &timeout, 0);
  if (reply.reply_type == AMQP_RESPONSE_NORMAL) {
    deliveries.push_back(Delivered{rabbitmq_bytes(envelope.message.body),
                                   amqp_is_redelivery(envelope.redelivered != 0, envelope.message.properties)});
    const int acked = amqp_basic_ack(consumer_.state(), AmqpConnection::kChannel, envelope.delivery_tag, 0);
    amqp_destroy_envelope(&envelope);
    // An ack that did not go out: the broker redelivers the message.
    if (acked != AMQP_STATUS_OK) {
      return lose_consumer(unavailable("ack to " + consumer_.host_port() + ": " + amqp_error_string2(acked)));
    }
    return true;
  }
  if (reply.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION && reply.library_error == AMQP_STATUS_TIMEOUT) return false;
  if (reply.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION && reply.library_error == AMQP_STATUS_UNEXPECTED_STATE) {
    CHAOS_RETURN_IF_ERROR(read_consumer_frame());
    return consume_one(Duration::zero(), deliveries);
  }
  const bool silent = reply.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION &&
                      reply.library_error == AMQP_STATUS_HEARTBEAT_TIMEOUT;
  return lose_consumer(unavailable("consume from " + consumer_.host_port() + ": " +
                                   (silent ? "the server missed two heartbeats, connection dropped"
                                           : amqp_describe_reply(reply))));
}

// A frame other than a delivery is waiting: a close or a consumer cancel
// ends the connection, anything else is skipped.
Status RabbitMqClient::read_consumer_frame() {
  const std::string where = consumer_.host_port();
  amqp_frame_t frame;
  timeval immediately{0, 0};
  const int status = amqp_simple_wait_frame_noblock(consumer_.state(), &frame, &immediately);
  if (status == AMQP_STATUS_TIMEOUT) return {};
  if (status != AMQP_STATUS_OK) {
    return lose_consumer(unavailable("consume from " + where + ": " + amqp_error_string2(status)));
  }
  if (frame.frame_type != AMQP_FRAME_METHOD) return {};
  const amqp_method_t& method = frame.payload.method;
  if (method.id == AMQP_CONNECTION_CLOSE_METHOD || method.id == AMQP_CHANNEL_CLOSE_METHOD) {
    return lose_consumer(consumer_.closed_by_server(method, "consume from " + settings_.queue));
  }
  if (method.id == AMQP_BASIC_CANCEL_METHOD) {
    probe_log("consumer on " + where + ": the server cancelled it (queue " + settings_.queue +
              " deleted?); subscribing again");
    return resubscribe();
  }
  return {};
}

Status RabbitMqClient::resubscribe() {
  bool created = false;
  Status status = consumer_.ensure_queue(settings_.queue, created);
  if (status.ok()) {
    amqp_basic_consume(consumer_.state(), AmqpConnection::kChannel, amqp_cstring_bytes(settings_.queue.c_str()),
                       amqp_empty_bytes, /*no_local=*/0, /*no_ack=*/0, /*exclusive=*/0, amqp_empty_table);
    status = consumer_.check(amqp_get_rpc_reply(consumer_.state()), "basic.consume " + settings_.queue);
  }
  if (!status.ok()) return lose_consumer(status);
  if (created) note_queue_recreated();
  return {};
}

}  // namespace chaos::lab::probe
