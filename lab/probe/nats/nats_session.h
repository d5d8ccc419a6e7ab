// One connection to the NATS cluster with a JetStream context, reconnecting
// forever, and the probe's stream created if missing. Owns the cnats
// handles; the stream client borrows them and serialises fail_over()
// against its own use of them.
#pragma once

#include <nats/nats.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <string>
#include <vector>

#include "common/status.h"
#include "lab/probe/broker_client.h"
#include "lab/probe/probe_flags.h"
#include "lab/probe/probe_metrics.h"

namespace chaos::lab::probe {

class NatsSession {
 public:
  NatsSession(ProbeMetrics& metrics, SessionSettings settings)
      : metrics_(metrics), settings_(std::move(settings)) {}
  ~NatsSession();
  NatsSession(const NatsSession&) = delete;
  NatsSession& operator=(const NatsSession&) = delete;

  // Connects in the settings' server order (retrying in the background if
  // no server answers yet).
  Status connect();
  // Creates the stream unless it exists; fails while the cluster has no
  // JetStream leader, so callers retry.
  Status ensure_stream(const StreamSettings& stream);
  // Closes the connection and opens a new one whose server order starts
  // right after the server it was connected to. libnats 3.4 cannot force a
  // reconnect on a live connection, hence a new one; the JetStream context
  // is rebuilt, so callers must not hold jetstream() across this.
  StatusOr<FailedOver> fail_over();

  jsCtx* jetstream() { return js_; }
  // The URL the library is connected to now (it reconnects on its own); empty when not connected.
  std::string connected_url() const;

 private:
  Status open(const std::vector<std::string>& order);
  void close();

  static void on_connected(natsConnection* connection, void* closure);
  static void on_disconnected(natsConnection* connection, void* closure);
  static void on_reconnected(natsConnection* connection, void* closure);
  static void on_closed(natsConnection* connection, void* closure);

  ProbeMetrics& metrics_;
  SessionSettings settings_;
  natsOptions* options_ = nullptr;
  natsConnection* connection_ = nullptr;
  // The connection whose callbacks count: a closed one's late disconnect
  // callback must not mark the new connection as down.
  std::atomic<natsConnection*> current_{nullptr};
  jsCtx* js_ = nullptr;
  // Connections whose closed callback has not run yet: the library calls
  // back on its own thread after natsConnection_Destroy returns, so close()
  // waits for it; no callback may outlive this session (or the metrics).
  std::mutex callbacks_mutex_;
  std::condition_variable callbacks_done_;
  int unclosed_connections_ = 0;
};

// "nats: timeout (jetstream error 10023)" for messages.
std::string describe_nats_error(natsStatus status, jsErrCode js_error = static_cast<jsErrCode>(0));

}  // namespace chaos::lab::probe
