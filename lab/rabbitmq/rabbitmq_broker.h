// The lab's RabbitMQ flavour (`lab up --broker rabbitmq`): one node per
// namespace, clustered at boot, and the probe's quorum queue declared by
// `up` through the management API.
#pragma once

#include "lab/lab_broker.h"

namespace chaos::lab {

class RabbitmqBroker final : public LabBroker {
 public:
  Status check_installed() const override;
  // Writes every node's files with one fresh Erlang cookie for the lab.
  Status prepare(const LabLayout& layout) const override;
  ProcessSpec node_process(const LabLayout& layout, int node) const override;
  bool uses_node_stores() const override { return false; }
  // Job `rabbitmq`: each node's rabbitmq_prometheus endpoint, label node.
  std::string prometheus_jobs(const LabLayout& layout) const override;
  std::vector<std::string> probe_args(const LabLayout& layout) const override;
  Status wait_until_ready(const LabLayout& layout, CommandRunner& runner, Clock& clock,
                                  std::ostream& out) const override;
  const char* leader_label() const override { return "queue_leader"; }
  // Asks each node's management API in turn for the queue's leader.
  std::optional<std::string> current_leader(const LabLayout& layout) const override;
  void print_status(const LabLayout& layout, std::ostream& out) const override;
  void print_urls(const LabLayout& layout, std::ostream& out) const override;
};

}  // namespace chaos::lab
