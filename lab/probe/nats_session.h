// One connection to the NATS cluster with a JetStream context, reconnecting
// forever, and the probe's stream created if missing. Owns the cnats
// handles; the publisher and consumer borrow them.
#pragma once

#include <nats/nats.h>

#include <string>
#include <vector>

#include "common/status.h"
#include "lab/probe/probe_metrics.h"

namespace chaos::lab::probe {

struct StreamSettings {
  std::string name;
  std::string subject;
  int replicas = 3;
};

class NatsSession {
 public:
  explicit NatsSession(ProbeMetrics& metrics) : metrics_(metrics) {}
  ~NatsSession();
  NatsSession(const NatsSession&) = delete;
  NatsSession& operator=(const NatsSession&) = delete;

  // Connects (retrying in the background if no server answers yet).
  Status connect(const std::vector<std::string>& servers);
  // Creates the stream unless it exists; fails while the cluster has no
  // JetStream leader, so callers retry.
  Status ensure_stream(const StreamSettings& stream);

  jsCtx* jetstream() { return js_; }

 private:
  static void on_connected(natsConnection* connection, void* closure);
  static void on_disconnected(natsConnection* connection, void* closure);
  static void on_reconnected(natsConnection* connection, void* closure);

  ProbeMetrics& metrics_;
  natsOptions* options_ = nullptr;
  natsConnection* connection_ = nullptr;
  jsCtx* js_ = nullptr;
};

// "nats: timeout (jetstream error 10023)" for messages.
std::string describe_nats_error(natsStatus status, jsErrCode js_error = static_cast<jsErrCode>(0));

}  // namespace chaos::lab::probe
