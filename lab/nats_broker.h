// The lab's default broker: a NATS JetStream cluster whose probe stream
// (kStreamName, 3 replicas) is created by the probe itself.
#pragma once

#include "lab/lab_broker.h"

namespace chaos::lab {

class NatsBroker final : public LabBroker {
 public:
  Status check_installed() const override;
  Status prepare(const LabLayout& layout) const override;
  ProcessSpec node_process(const LabLayout& layout, int node) const override;
  bool uses_node_stores() const override { return true; }
  std::string prometheus_jobs(const LabLayout&) const override { return ""; }
  std::vector<std::string> probe_args(const LabLayout& layout) const override;
  Status wait_until_ready(const LabLayout& layout, CommandRunner& runner, Clock& clock,
                                  std::ostream& out) const override;
  const char* leader_label() const override { return "stream_leader"; }
  std::optional<std::string> current_leader(const LabLayout& layout) const override;
  void print_status(const LabLayout& layout, std::ostream& out) const override;
  void print_urls(const LabLayout& layout, std::ostream& out) const override;
};

}  // namespace chaos::lab
