// `lab up`'s wait for RabbitMQ: every node's management API answers, the
// nodes run as one cluster, and the probe's quorum queue exists with a
// leader. Each check is one HTTP question that passes or says why not.
#pragma once

#include <ostream>
#include <string>

#include "common/clock.h"
#include "common/command_runner.h"
#include "common/status.h"
#include "lab/lab_layout.h"

namespace chaos::lab {

Status rabbitmq_node_answering(const LabLayout& layout, int node);
// n1 reports every lab node as running (one cluster, not islands).
Status rabbitmq_cluster_running(const LabLayout& layout);
// PUT of the probe's queue (idempotent: 201 created, 204 already there).
Status declare_probe_queue(const LabLayout& layout);
// Quorum queue `queue` (vhost /) has a leader and a replica on every node
// (min(3, nodes)).
Status queue_replicated(const LabLayout& layout, const std::string& queue);
// Adds (rabbitmq-queues add_member) a replica on every node `queue` lacks:
// the probe may have declared the probe's queue on the first node to boot
// before the others had joined, and a quorum queue keeps the members it was
// declared with.
Status add_missing_queue_members(const LabLayout& layout, CommandRunner& runner, const std::string& queue);

// All of the above in order, bounded, with a progress line per step; a
// timeout names the node and its log file.
Status wait_for_rabbitmq(const LabLayout& layout, CommandRunner& runner, Clock& clock, std::ostream& out);

}  // namespace chaos::lab
