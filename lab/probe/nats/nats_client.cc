#include "lab/probe/nats/nats_client.h"

namespace chaos::lab::probe {

namespace {

std::int64_t to_ms(Duration duration) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(duration).count();
}

}  // namespace

NatsClient::NatsClient(NatsSession& session, StreamSettings stream, ConsumerSettings consumer)
    : session_(session), stream_(std::move(stream)), consumer_(std::move(consumer)) {}

// cnats >= 3.4 no longer deletes the JetStream consumer on Destroy, so the
// durable survives re-subscriptions and probe restarts.
NatsClient::~NatsClient() { natsSubscription_Destroy(subscription_); }

Status NatsClient::publish(std::string_view body, Duration ack_timeout, std::string_view message_id) {
  jsPubOptions options;
  jsPubOptions_Init(&options);
  options.MaxWait = to_ms(ack_timeout);
  options.ExpectStream = stream_.name.c_str();
  const std::string id(message_id);
  if (!id.empty()) options.MsgId = id.c_str();
  jsPubAck* ack = nullptr;
  jsErrCode js_error = static_cast<jsErrCode>(0);
  natsStatus status = NATS_OK;
  {
    std::shared_lock lock(handles_mutex_);
    status = js_Publish(&ack, session_.jetstream(), stream_.subject.c_str(), body.data(),
                        static_cast<int>(body.size()), &options, &js_error);
  }
  jsPubAck_Destroy(ack);
  if (status == NATS_OK) return {};
  const std::string message = "publish to " + stream_.name + ": " + describe_nats_error(status, js_error);
  return status == NATS_TIMEOUT ? deadline_exceeded(message) : unavailable(message);
}

StatusOr<Subscribed> NatsClient::subscribe() {
  drop_subscription();
  std::shared_lock lock(handles_mutex_);
  jsErrCode js_error = static_cast<jsErrCode>(0);
  jsConsumerInfo* info = nullptr;
  const natsStatus lookup = js_GetConsumerInfo(&info, session_.jetstream(), stream_.name.c_str(),
                                               consumer_.durable.c_str(), nullptr, &js_error);
  jsConsumerInfo_Destroy(info);
  if (lookup != NATS_OK && lookup != NATS_NOT_FOUND) {
    return unavailable("consumer " + consumer_.durable + " info: " + describe_nats_error(lookup, js_error));
  }
  jsSubOptions options;
  jsSubOptions_Init(&options);
  options.Stream = stream_.name.c_str();
  options.Config.DeliverPolicy = js_DeliverNew;
  options.Config.AckPolicy = js_AckExplicit;
  options.Config.AckWait = consumer_.ack_wait.count();
  const natsStatus status = js_PullSubscribe(&subscription_, session_.jetstream(), stream_.subject.c_str(),
                                             consumer_.durable.c_str(), nullptr, &options, &js_error);
  if (status != NATS_OK) {
    subscription_ = nullptr;
    return unavailable("subscribe " + consumer_.durable + ": " + describe_nats_error(status, js_error));
  }
  return lookup == NATS_NOT_FOUND ? Subscribed::kCreated : Subscribed::kBound;
}

StatusOr<std::vector<Delivered>> NatsClient::fetch(int batch, Duration wait) {
  std::shared_lock lock(handles_mutex_);
  if (subscription_ == nullptr) return failed_precondition("fetch before subscribe");
  natsMsgList list{nullptr, 0};
  jsErrCode js_error = static_cast<jsErrCode>(0);
  const natsStatus status = natsSubscription_Fetch(&list, subscription_, batch, to_ms(wait), &js_error);
  std::vector<Delivered> deliveries;
  for (int i = 0; i < list.Count; ++i) {
    natsMsg* message = list.Msgs[i];
    Delivered delivered;
    delivered.body.assign(natsMsg_GetData(message), static_cast<std::size_t>(natsMsg_GetDataLength(message)));
    jsMsgMetaData* meta = nullptr;
    if (natsMsg_GetMetaData(&meta, message) == NATS_OK) delivered.redelivered = meta->NumDelivered > 1;
    jsMsgMetaData_Destroy(meta);
    deliveries.push_back(std::move(delivered));
    natsMsg_Ack(message, nullptr);
  }
  natsMsgList_Destroy(&list);
  if (status == NATS_OK || status == NATS_TIMEOUT || !deliveries.empty()) return deliveries;
  return unavailable("fetch from " + consumer_.durable + ": " + describe_nats_error(status, js_error));
}

void NatsClient::drop_subscription() {
  natsSubscription_Destroy(subscription_);
  subscription_ = nullptr;
}

std::string NatsClient::current_server() {
  std::shared_lock lock(handles_mutex_);  // fail_over() replaces the connection
  return session_.connected_url();
}

StatusOr<FailedOver> NatsClient::fail_over() {
  // Waits for a running fetch or subscribe. The subscription stays: it
  // belongs to the consumer thread, and on the closed connection its
  // fetches fail until subscribe() binds the durable (which survives on
  // the server) on the new one.
  std::unique_lock lock(handles_mutex_);
  return session_.fail_over();
}

}  // namespace chaos::lab::probe
