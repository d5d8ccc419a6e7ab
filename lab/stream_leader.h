// Which node leads the probe's stream. Experiments cannot name a dynamic
// leader, so the supervisor keeps the inventory's `stream_leader` label
// current and "pause the stream leader" targets that label.
#pragma once

#include <optional>
#include <string>

#include "lab/lab_layout.h"

namespace chaos::lab {

// From nats-server's /jsz?accounts=true&streams=true JSON: the server name
// leading `stream`, or nullopt (no leader, not found, malformed input).
std::optional<std::string> stream_leader_from_jsz(const std::string& json_text, const std::string& stream);

// Rewrites the inventory (atomically) when the leader changes.
class StreamLeaderWatcher {
 public:
  explicit StreamLeaderWatcher(const LabLayout& layout) : layout_(layout) {}
  // Asks the nodes in turn; the first that names a leader wins.
  void refresh();
  const std::string& leader() const { return leader_; }

 private:
  const LabLayout& layout_;
  std::string leader_;
};

// Writes the inventory through a temporary file and rename, so readers see
// the old or the new file, never half of one.
bool write_inventory(const LabLayout& layout, const std::string& stream_leader);

}  // namespace chaos::lab
