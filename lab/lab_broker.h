// What differs between the lab's brokers (NATS JetStream, RabbitMQ quorum
// queues): their files, their node processes, how `up` knows the cluster
// formed, the probe's broker flags, the Prometheus jobs and who leads the
// probe's stream or queue. Everything else (network, DNS, agents, the
// supervisor, Prometheus, the probe process) is shared and asks lab_broker().
#pragma once

#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/command_runner.h"
#include "common/status.h"
#include "lab/lab_layout.h"
#include "lab/process_spec.h"

namespace chaos::lab {

class LabBroker {
 public:
  virtual ~LabBroker() = default;

  // NOT_FOUND naming what is missing and how to install it.
  virtual Status check_installed() const = 0;
  // Directories and config files in the state dir, before anything starts.
  virtual Status prepare(const LabLayout& layout) const = 0;
  // The broker process of `node`, run by the supervisor.
  virtual ProcessSpec node_process(const LabLayout& layout, int node) const = 0;
  // Whether each node's broker data lives on its own loop-mounted store
  // (lab/lab_store.h), which disk.fill experiments fill.
  virtual bool uses_node_stores() const = 0;
  // Extra Prometheus scrape jobs (YAML list items under scrape_configs).
  virtual std::string prometheus_jobs(const LabLayout& layout) const = 0;
  // chaos-probe's broker flags (before --metrics-listen and any extra flags).
  virtual std::vector<std::string> probe_args(const LabLayout& layout) const = 0;
  // Bounded wait until the nodes run in one cluster and the probe's
  // stream/queue can be used; progress lines on `out`.
  virtual Status wait_until_ready(const LabLayout& layout, CommandRunner& runner, Clock& clock,
                                  std::ostream& out) const = 0;
  // The inventory label that is "true" on the node leading the probe's
  // stream ("stream_leader") or quorum queue ("queue_leader").
  virtual const char* leader_label() const = 0;
  // The node ("n2") leading now; nullopt when no node answers or names one.
  virtual std::optional<std::string> current_leader(const LabLayout& layout) const = 0;
  // `lab status`: the broker line, then one line per node with its ports.
  virtual void print_status(const LabLayout& layout, std::ostream& out) const = 0;
  // `lab status` url lines for the broker ("  nats        nats://...").
  virtual void print_urls(const LabLayout& layout, std::ostream& out) const = 0;
};

// The broker of `layout.params().broker`.
const LabBroker& lab_broker(const LabLayout& layout);

// The broker recorded in `state_dir` by `up` (kBrokerNats when none is).
std::string recorded_broker(const std::string& state_dir);

}  // namespace chaos::lab
