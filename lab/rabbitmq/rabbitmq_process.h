// How the supervisor runs a RabbitMQ node. Debian's /usr/sbin wrapper
// switches to the rabbitmq user; the lab runs the server script from
// /usr/lib/rabbitmq/bin as root instead, with RUNNING_UNDER_SYSTEMD set so
// the script execs erl (which execs beam.smp) instead of forking a child
// and trapping signals. The pid the supervisor starts is then beam.smp
// itself: a chaos kill of beam.smp is seen as the node's exit and
// restarted, and SIGTERM stops the node gracefully.
#pragma once

#include <string>
#include <vector>

#include "lab/lab_layout.h"
#include "lab/process_spec.h"

namespace chaos::lab {

inline constexpr const char* kRabbitmqServerScript = "/usr/lib/rabbitmq/bin/rabbitmq-server";

// "rabbitmq-n1": the process, log and pidfile name.
std::string rabbitmq_process_name(const LabLayout& layout, int node);

// `ip netns exec <ns> env -i VAR=... rabbitmq-server`: a clean environment
// with every RABBITMQ_* path in the node's directory.
ProcessSpec rabbitmq_process_spec(const LabLayout& layout, int node);

// A RabbitMQ CLI tool ("rabbitmq-queues") against `node`, run inside its
// namespace with the node's HOME (its Erlang cookie) and long names.
std::vector<std::string> rabbitmq_cli_argv(const LabLayout& layout, int node, const std::string& tool,
                                           const std::vector<std::string>& args);

}  // namespace chaos::lab
