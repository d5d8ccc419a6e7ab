#include "lab/rabbitmq/rabbitmq_readiness.h"

#include <algorithm>

#include "common/url_encode.h"
#include "lab/rabbitmq/management_api.h"
#include "lab/rabbitmq/queue_leader.h"
#include "lab/rabbitmq/rabbitmq_config.h"
#include "lab/rabbitmq/rabbitmq_process.h"
#include "lab/readiness.h"

namespace chaos::lab {

namespace {

// Erlang boot, plugins and Mnesia sync: ~20 s per node on 2 busy cores;
// the nodes boot in parallel.
constexpr auto kRabbitmqBootTimeout = std::chrono::seconds(120);
constexpr auto kRabbitmqClusterTimeout = std::chrono::seconds(60);
constexpr auto kRabbitmqReplicaWait = std::chrono::seconds(5);

Status rabbitmq_expect_status(const StatusOr<HttpReply>& reply, const std::string& what, std::initializer_list<int> ok) {
  if (!reply.ok()) return reply.status();
  for (int code : ok) {
    if (reply->status == code) return {};
  }
  return unavailable(what + " answered HTTP " + std::to_string(reply->status) + ": " + reply->body.substr(0, 200));
}

double rabbitmq_seconds_since(Clock& clock, SteadyTime started) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(clock.steady_now() - started).count() / 1000.0;
}

}  // namespace

Status rabbitmq_node_answering(const LabLayout& layout, int node) {
  return rabbitmq_expect_status(management_get(layout.node_ip(node), "/api/overview"),
                                "RabbitMQ " + layout.node_name(node) + " /api/overview", {200});
}

Status rabbitmq_cluster_running(const LabLayout& layout) {
  auto reply = management_get(layout.node_ip(1), "/api/nodes");
  CHAOS_RETURN_IF_ERROR(rabbitmq_expect_status(reply, "RabbitMQ n1 /api/nodes", {200}));
  const auto running = running_nodes_from_api(reply->body);
  for (int node = 1; node <= layout.node_count(); ++node) {
    const std::string name = rabbitmq_node_name(layout, node);
    if (std::find(running.begin(), running.end(), name) == running.end()) {
      return unavailable(name + " is not a running member of n1's cluster yet (" + std::to_string(running.size()) +
                         " of " + std::to_string(layout.node_count()) + " running)");
    }
  }
  return {};
}

Status declare_probe_queue(const LabLayout& layout) {
  return rabbitmq_expect_status(management_put(layout.node_ip(1), probe_queue_api_path(), probe_queue_declaration()),
                                "declaring queue " + std::string(kProbeQueue), {201, 204});
}

namespace {

StatusOr<std::vector<std::string>> rabbitmq_missing_members(const LabLayout& layout, const std::string& queue) {
  auto reply = management_get(layout.node_ip(1), "/api/queues/%2F/" + url_encode(queue));
  CHAOS_RETURN_IF_ERROR(rabbitmq_expect_status(reply, "queue " + queue, {200}));
  if (!queue_leader_from_api(reply->body)) return unavailable("queue " + queue + " has no leader yet");
  const auto members = queue_members_from_api(reply->body);
  std::vector<std::string> missing;
  for (int node = 1; node <= std::min(3, layout.node_count()); ++node) {
    const std::string name = rabbitmq_node_name(layout, node);
    if (std::find(members.begin(), members.end(), name) == members.end()) missing.push_back(name);
  }
  return missing;
}

}  // namespace

Status queue_replicated(const LabLayout& layout, const std::string& queue) {
  CHAOS_ASSIGN_OR_RETURN(auto missing, rabbitmq_missing_members(layout, queue));
  if (missing.empty()) return {};
  return unavailable("queue " + queue + " has no replica on " + missing.front() + " (" +
                     std::to_string(missing.size()) + " missing)");
}

Status add_missing_queue_members(const LabLayout& layout, CommandRunner& runner, const std::string& queue) {
  CHAOS_ASSIGN_OR_RETURN(auto missing, rabbitmq_missing_members(layout, queue));
  for (const auto& member : missing) {
    auto added = runner.run_checked(
        rabbitmq_cli_argv(layout, 1, "rabbitmq-queues", {"add_member", "--vhost", "/", queue, member}),
        RunOptions{"", std::chrono::seconds(30)});
    if (!added.ok()) return added.status().with_context("adding a replica of " + queue + " on " + member);
  }
  return {};
}

Status wait_for_rabbitmq(const LabLayout& layout, CommandRunner& runner, Clock& clock, std::ostream& out) {
  const SteadyTime started = clock.steady_now();
  for (int node = 1; node <= layout.node_count(); ++node) {
    CHAOS_RETURN_IF_ERROR(wait_until(clock, kRabbitmqBootTimeout,
                                     "RabbitMQ " + rabbitmq_node_name(layout, node) + " (log " +
                                         layout.logfile(rabbitmq_process_name(layout, node)) + ")",
                                     [&] { return rabbitmq_node_answering(layout, node); }));
    out << "lab: RabbitMQ " << rabbitmq_node_name(layout, node) << " answering after "
        << rabbitmq_seconds_since(clock, started) << " s\n" << std::flush;
  }
  CHAOS_RETURN_IF_ERROR(wait_until(clock, kRabbitmqClusterTimeout,
                                   "RabbitMQ cluster (logs " + layout.logfile("rabbitmq-n*") + ")",
                                   [&] { return rabbitmq_cluster_running(layout); }));
  out << "lab: RabbitMQ cluster of " << layout.node_count() << " running nodes\n" << std::flush;
  CHAOS_RETURN_IF_ERROR(wait_until(clock, kRabbitmqClusterTimeout, "quorum queue " + std::string(kProbeQueue),
                                   [&] { return declare_probe_queue(layout); }));
  // Replicas come with the declaration; a short wait, then the repair.
  if (!wait_until(clock, kRabbitmqReplicaWait, "", [&] { return queue_replicated(layout, kProbeQueue); }).ok()) {
    out << "lab: quorum queue " << kProbeQueue << " was declared before every node had joined; adding replicas\n"
        << std::flush;
    CHAOS_RETURN_IF_ERROR(add_missing_queue_members(layout, runner, kProbeQueue));
  }
  CHAOS_RETURN_IF_ERROR(wait_until(clock, kRabbitmqClusterTimeout, "quorum queue " + std::string(kProbeQueue),
                                   [&] { return queue_replicated(layout, kProbeQueue); }));
  out << "lab: quorum queue " << kProbeQueue << " declared with " << std::min(3, layout.node_count())
      << " replicas\n" << std::flush;
  return {};
}

}  // namespace chaos::lab
