#include "lab/rabbitmq/rabbitmq_broker.h"

#include <unistd.h>

#include <algorithm>
#include <iomanip>

#include "lab/lab_files.h"
#include "lab/rabbitmq/management_api.h"
#include "lab/rabbitmq/queue_leader.h"
#include "lab/rabbitmq/rabbitmq_config.h"
#include "lab/rabbitmq/rabbitmq_process.h"
#include "lab/rabbitmq/rabbitmq_readiness.h"

namespace chaos::lab {

Status RabbitmqBroker::check_installed() const {
  if (::access(kRabbitmqServerScript, X_OK) != 0) {
    return not_found(std::string(kRabbitmqServerScript) + " is missing: install rabbitmq-server (scripts/install-deps)");
  }
  return {};
}

Status RabbitmqBroker::prepare(const LabLayout& layout) const {
  const std::string cookie = random_erlang_cookie();
  for (int node = 1; node <= layout.node_count(); ++node) {
    CHAOS_RETURN_IF_ERROR(write_rabbitmq_node_files(layout, node, cookie));
  }
  return {};
}

ProcessSpec RabbitmqBroker::node_process(const LabLayout& layout, int node) const {
  return rabbitmq_process_spec(layout, node);
}

std::string RabbitmqBroker::prometheus_jobs(const LabLayout& layout) const {
  std::string text = "  - job_name: rabbitmq\n";
  text += "    static_configs:\n";
  for (int node = 1; node <= layout.node_count(); ++node) {
    text += "      - targets: [" + quoted(layout.node_ip(node) + ":" + std::to_string(kRabbitmqPrometheusPort)) +
            "]\n";
    text += "        labels: {node: " + quoted(layout.node_name(node)) + "}\n";
  }
  return text;
}

std::vector<std::string> RabbitmqBroker::probe_args(const LabLayout& layout) const {
  return {"--broker", "rabbitmq", "--servers", rabbitmq_amqp_urls(layout)};
}

Status RabbitmqBroker::wait_until_ready(const LabLayout& layout, CommandRunner& runner, Clock& clock,
                                        std::ostream& out) const {
  return wait_for_rabbitmq(layout, runner, clock, out);
}

std::optional<std::string> RabbitmqBroker::current_leader(const LabLayout& layout) const {
  for (int node = 1; node <= layout.node_count(); ++node) {
    auto reply = management_get(layout.node_ip(node), probe_queue_api_path(), std::chrono::milliseconds(500));
    if (!reply.ok() || reply->status != 200) continue;
    if (auto leader = queue_leader_from_api(reply->body)) return leader;
  }
  return std::nullopt;
}

namespace {

// The nodes the cluster lists as running, as the first node that answers sees them.
std::vector<std::string> rabbitmq_running_nodes(const LabLayout& layout) {
  for (int node = 1; node <= layout.node_count(); ++node) {
    auto reply = management_get(layout.node_ip(node), "/api/nodes", std::chrono::milliseconds(500));
    if (reply.ok() && reply->status == 200) return running_nodes_from_api(reply->body);
  }
  return {};
}

}  // namespace

void RabbitmqBroker::print_status(const LabLayout& layout, std::ostream& out) const {
  const auto running = rabbitmq_running_nodes(layout);
  out << "broker: rabbitmq (quorum queue " << kProbeQueue << "); " << running.size() << " of "
      << layout.node_count() << " nodes running in the cluster; queue leader "
      << current_leader(layout).value_or("UNKNOWN") << "\n";
  out << "nodes:\n";
  for (int node = 1; node <= layout.node_count(); ++node) {
    const std::string name = rabbitmq_node_name(layout, node);
    const bool up = std::find(running.begin(), running.end(), name) != running.end();
    out << "  " << layout.node_name(node) << "  " << std::left << std::setw(14) << layout.netns(node)
        << std::setw(12) << layout.node_ip(node) << std::setw(15) << name << " " << std::setw(12)
        << (up ? "running" : "NOT RUNNING") << "amqp :" << kAmqpPort << " management :" << kRabbitmqManagementPort
        << " prometheus :" << kRabbitmqPrometheusPort << "  agent :" << kAgentPort << " metrics :"
        << kAgentMetricsPort << "\n";
  }
}

void RabbitmqBroker::print_urls(const LabLayout& layout, std::ostream& out) const {
  out << "  amqp        " << rabbitmq_amqp_urls(layout) << "\n";
  out << "  management  http://" << layout.node_ip(1) << ":" << kRabbitmqManagementPort << "/ (user "
      << kRabbitmqUser << ", password " << kRabbitmqPassword << ")\n";
}

}  // namespace chaos::lab
