// Which node leads the probe's stream (NATS) or quorum queue (RabbitMQ).
// Experiments cannot name a dynamic leader, so the supervisor keeps the
// inventory's `stream_leader` / `queue_leader` label current and "pause the
// leader" targets that label.
#pragma once

#include <optional>
#include <string>

#include "lab/lab_layout.h"

namespace chaos::lab {

// From nats-server's /jsz?accounts=true&streams=true JSON: the server name
// leading `stream`, or nullopt (no leader, not found, malformed input).
std::optional<std::string> stream_leader_from_jsz(const std::string& json_text, const std::string& stream);

// Rewrites the inventory (atomically) when the leader changes.
class LeaderWatcher {
 public:
  explicit LeaderWatcher(const LabLayout& layout) : layout_(layout) {}
  // Asks the broker (lab_broker().current_leader); unknown keeps the last.
  void refresh();
  const std::string& leader() const { return leader_; }

 private:
  const LabLayout& layout_;
  std::string leader_;
};

// Writes the inventory through a temporary file and rename, so readers see
// the old or the new file, never half of one.
// With the NATS lab, also points the stream-leader-store link at the leader's store.
bool write_inventory(const LabLayout& layout, const std::string& leader);

}  // namespace chaos::lab
