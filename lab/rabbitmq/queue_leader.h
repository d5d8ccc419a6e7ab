// Which node leads the probe's quorum queue, and which nodes run, from the
// RabbitMQ management API. Pure parsers (unit-tested on hostile input);
// the supervisor keeps the inventory's `queue_leader` label current with
// them, so "kill the queue leader" can target a label.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace chaos::lab {

// From GET /api/queues/<vhost>/<name>: the lab node ("n2") of the field
// `leader` (quorum queues; `node` is never used: it may name a stopped
// node), an Erlang node name "rabbit@n2.lab". nullopt when absent or
// malformed.
std::optional<std::string> queue_leader_from_api(const std::string& json_text);

// From GET /api/queues/<vhost>/<name>: the Erlang nodes holding a replica
// (field `members`, quorum queues only; when the API names it more than
// once, the nodes of every occurrence); empty when absent or malformed.
std::vector<std::string> queue_members_from_api(const std::string& json_text);

// From GET /api/nodes: the names ("rabbit@n1.lab") of nodes with running = true.
std::vector<std::string> running_nodes_from_api(const std::string& json_text);

// "rabbit@n2.lab" -> "n2"; nullopt unless it has a host part.
std::optional<std::string> lab_node_of(const std::string& erlang_node);

}  // namespace chaos::lab
