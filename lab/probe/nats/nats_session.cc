#include "lab/probe/nats/nats_session.h"

#include <chrono>

#include "lab/probe/probe_log.h"
#include "lab/probe/server_order.h"

namespace chaos::lab::probe {

namespace {

constexpr int64_t kConnectTimeoutMs = 2000;
constexpr int64_t kReconnectWaitMs = 250;
constexpr int64_t kJetStreamWaitMs = 2000;
// How long close() waits for the library's closed callback.
constexpr auto kClosedCallbackWait = std::chrono::seconds(5);
// Bound the stream so a long-running lab does not fill the disk.
constexpr int64_t kStreamMaxAgeNs = 10LL * 60 * 1000 * 1000 * 1000;

}  // namespace

std::string describe_nats_error(natsStatus status, jsErrCode js_error) {
  std::string text = std::string("nats: ") + natsStatus_GetText(status);
  if (js_error != 0) text += " (jetstream error " + std::to_string(static_cast<int>(js_error)) + ")";
  return text;
}

NatsSession::~NatsSession() { close(); }

void NatsSession::close() {
  current_ = nullptr;
  jsCtx_Destroy(js_);
  js_ = nullptr;
  const bool had_connection = connection_ != nullptr;
  natsConnection_Destroy(connection_);  // closes it first
  connection_ = nullptr;
  if (had_connection) {
    std::unique_lock lock(callbacks_mutex_);
    if (!callbacks_done_.wait_for(lock, kClosedCallbackWait, [this] { return unclosed_connections_ == 0; })) {
      probe_log("the NATS library did not confirm a closed connection within 5 s");
    }
  }
  natsOptions_Destroy(options_);
  options_ = nullptr;
}

void NatsSession::on_closed(natsConnection*, void* closure) {
  auto* self = static_cast<NatsSession*>(closure);
  std::lock_guard lock(self->callbacks_mutex_);
  --self->unclosed_connections_;
  self->callbacks_done_.notify_all();
}

void NatsSession::on_disconnected(natsConnection* connection, void* closure) {
  auto* self = static_cast<NatsSession*>(closure);
  if (connection != self->current_.load()) return;  // closed by fail_over()
  self->metrics_.disconnects.inc();
  self->metrics_.connected.set(0);
}

void NatsSession::on_connected(natsConnection*, void* closure) {
  static_cast<NatsSession*>(closure)->metrics_.connected.set(1);
}

void NatsSession::on_reconnected(natsConnection*, void* closure) {
  auto* self = static_cast<NatsSession*>(closure);
  self->metrics_.reconnects.inc();
  self->metrics_.connected.set(1);
}

Status NatsSession::connect() { return open(settings_.servers); }

Status NatsSession::open(const std::vector<std::string>& order) {
  std::vector<const char*> urls;
  for (const auto& server : order) urls.push_back(server.c_str());
  natsStatus status = natsOptions_Create(&options_);
  if (status == NATS_OK) status = natsOptions_SetServers(options_, urls.data(), static_cast<int>(urls.size()));
  // Connect to the first server that answers, in the given order, so an
  // experiment knows which server the probe observes from (the lab lists
  // n1 first, --first-server picks another); reconnects still walk the
  // whole list. --randomize-servers restores the library's default.
  if (status == NATS_OK) status = natsOptions_SetNoRandomize(options_, !settings_.randomize);
  if (status == NATS_OK) status = natsOptions_SetTimeout(options_, kConnectTimeoutMs);
  if (status == NATS_OK) status = natsOptions_SetMaxReconnect(options_, -1);
  // A paused (SIGSTOP) server keeps the TCP connection open; only missed
  // PONGs reveal it. The library's 2-minute default would hide a whole
  // experiment, so the probe pings every second unless told otherwise.
  const auto ping_ms = std::chrono::duration_cast<std::chrono::milliseconds>(settings_.ping_interval).count();
  if (status == NATS_OK) status = natsOptions_SetPingInterval(options_, ping_ms);
  if (status == NATS_OK) status = natsOptions_SetMaxPingsOut(options_, settings_.max_pings_out);
  if (status == NATS_OK) status = natsOptions_SetReconnectWait(options_, kReconnectWaitMs);
  // The probe may start before the brokers listen; keep trying instead of failing.
  if (status == NATS_OK) status = natsOptions_SetRetryOnFailedConnect(options_, true, on_connected, this);
  if (status == NATS_OK) status = natsOptions_SetDisconnectedCB(options_, on_disconnected, this);
  if (status == NATS_OK) status = natsOptions_SetReconnectedCB(options_, on_reconnected, this);
  if (status == NATS_OK) status = natsOptions_SetClosedCB(options_, on_closed, this);
  if (status != NATS_OK) return invalid_argument("probe NATS options: " + describe_nats_error(status));
  status = natsConnection_Connect(&connection_, options_);
  if (connection_ != nullptr) {
    std::lock_guard lock(callbacks_mutex_);
    ++unclosed_connections_;
  }
  if (status == NATS_OK) {
    metrics_.connected.set(1);
  } else if (status != NATS_NOT_YET_CONNECTED) {
    return unavailable("probe cannot connect to NATS: " + describe_nats_error(status));
  } else {
    metrics_.connected.set(0);
  }
  current_ = connection_;
  jsOptions js_options;
  jsOptions_Init(&js_options);
  js_options.Wait = kJetStreamWaitMs;
  status = natsConnection_JetStream(&js_, connection_, &js_options);
  if (status != NATS_OK) return internal_error("probe JetStream context: " + describe_nats_error(status));
  return {};
}

std::string NatsSession::connected_url() const {
  if (connection_ == nullptr) return {};
  char url[512] = {0};
  if (natsConnection_GetConnectedUrl(connection_, url, sizeof(url)) != NATS_OK) return {};
  return url;
}

StatusOr<FailedOver> NatsSession::fail_over() {
  FailedOver moved;
  moved.from = connected_url();
  const std::vector<std::string> order = order_after(settings_.servers, moved.from);
  close();
  metrics_.connected.set(0);
  CHAOS_RETURN_IF_ERROR(open(order));
  moved.to = connected_url();
  return moved;
}

Status NatsSession::ensure_stream(const StreamSettings& stream) {
  jsErrCode js_error = static_cast<jsErrCode>(0);
  jsStreamInfo* info = nullptr;
  natsStatus status = js_GetStreamInfo(&info, js_, stream.name.c_str(), nullptr, &js_error);
  jsStreamInfo_Destroy(info);
  if (status == NATS_OK) return {};
  if (status != NATS_NOT_FOUND) {
    return unavailable("stream " + stream.name + " info: " + describe_nats_error(status, js_error));
  }
  jsStreamConfig config;
  jsStreamConfig_Init(&config);
  const char* subjects[] = {stream.subject.c_str()};
  config.Name = stream.name.c_str();
  config.Subjects = subjects;
  config.SubjectsLen = 1;
  config.Storage = js_FileStorage;
  config.Replicas = stream.replicas;
  config.MaxAge = kStreamMaxAgeNs;
  status = js_AddStream(nullptr, js_, &config, nullptr, &js_error);
  if (status != NATS_OK) {
    return unavailable("create stream " + stream.name + ": " + describe_nats_error(status, js_error));
  }
  return {};
}

}  // namespace chaos::lab::probe
