// A RabbitMQ node's files in the lab: everything under the node's
// rabbitmq/ directory in the state dir (config, enabled plugins, Mnesia,
// logs, pidfile and the HOME that holds the Erlang cookie), so nothing is
// written to /var/lib/rabbitmq, /var/log/rabbitmq or root's home. Pure
// renderers for the unit tests, plus the writers `up` calls.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"
#include "lab/lab_layout.h"

namespace chaos::lab {

// Ports on the node's own address (fixed: the namespaces are separate).
inline constexpr int kAmqpPort = 5672;
inline constexpr int kRabbitmqManagementPort = 15672;
inline constexpr int kRabbitmqPrometheusPort = 15692;
// The lab's user: lab only, never a production credential.
inline constexpr const char* kRabbitmqUser = "chaos";
inline constexpr const char* kRabbitmqPassword = "chaos";
// The probe's quorum queue (chaos-probe's default --queue).
inline constexpr const char* kProbeQueue = "chaos-probe";

std::string rabbitmq_dir(const LabLayout& layout, int node);          // "<node dir>/rabbitmq"
std::string rabbitmq_home(const LabLayout& layout, int node);         // ".../rabbitmq/home"
std::string rabbitmq_config_path(const LabLayout& layout, int node);  // ".../rabbitmq/rabbitmq.conf"
std::string rabbitmq_plugins_path(const LabLayout& layout, int node);
std::string rabbitmq_node_name(const LabLayout& layout, int node);    // "rabbit@n1.lab"

// "amqp://chaos:chaos@10.77.0.11:5672,..." for chaos-probe --servers.
std::string rabbitmq_amqp_urls(const LabLayout& layout);

// rabbitmq.conf: listeners on the node's IP, the lab user, cluster
// formation from the static list of all nodes, pause_minority.
std::string render_rabbitmq_config(const LabLayout& layout, int node);
// The enabled-plugins file: management (the HTTP API `up` and the
// supervisor use) and prometheus.
std::string render_rabbitmq_plugins();

// A fresh random Erlang cookie: 20 uppercase letters.
std::string random_erlang_cookie();

// Creates the node's directories and writes its config, plugins file, an
// empty rabbitmq-env.conf (so the host's /etc/rabbitmq one is not read) and
// $HOME/.erlang.cookie (mode 0400) holding `cookie`.
Status write_rabbitmq_node_files(const LabLayout& layout, int node, const std::string& cookie);

}  // namespace chaos::lab
