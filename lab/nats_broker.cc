#include "lab/nats_broker.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iomanip>

#include "common/command_runner.h"
#include "lab/http_check.h"
#include "lab/lab_files.h"
#include "lab/lab_processes.h"
#include "lab/readiness.h"
#include "lab/stream_leader.h"

namespace chaos::lab {

namespace {

constexpr auto kNatsReadyTimeout = std::chrono::seconds(60);

}  // namespace

Status NatsBroker::check_installed() const {
  if (!find_in_directories("nats-server", kSystemProgramDirectories).empty()) return {};
  return not_found("nats-server is not installed: run scripts/install-deps");
}

Status NatsBroker::prepare(const LabLayout& layout) const {
  for (int node = 1; node <= layout.node_count(); ++node) {
    std::error_code error;
    std::filesystem::create_directories(std::filesystem::path(layout.node_dir(node)) / "jetstream", error);
    if (error) return internal_error("cannot create " + layout.node_dir(node) + "/jetstream: " + error.message());
    std::ofstream out(nats_config_path(layout, node), std::ios::trunc);
    out << render_nats_config(layout, node);
    if (!out.flush()) return internal_error("cannot write " + nats_config_path(layout, node));
  }
  return {};
}

ProcessSpec NatsBroker::node_process(const LabLayout& layout, int node) const {
  return nats_process_spec(layout, node);
}

std::vector<std::string> NatsBroker::probe_args(const LabLayout& layout) const {
  return {"--servers", layout.nats_urls(), "--stream", kStreamName, "--subject", kStreamSubject,
          "--replicas", std::to_string(std::min(3, layout.node_count()))};
}

Status NatsBroker::wait_until_ready(const LabLayout& layout, CommandRunner&, Clock& clock, std::ostream& out) const {
  for (int node = 1; node <= layout.node_count(); ++node) {
    CHAOS_RETURN_IF_ERROR(wait_until(clock, kNatsReadyTimeout, "nats-server " + layout.node_name(node) + " (log " +
                                     layout.logfile("nats-" + layout.node_name(node)) + ")",
                                     [&] { return nats_healthy(layout, node); }));
  }
  out << "lab: nats-server answering on every node\n" << std::flush;
  CHAOS_RETURN_IF_ERROR(
      wait_until(clock, kNatsReadyTimeout, "JetStream cluster", [&] { return jetstream_meta_leader(layout); }));
  out << "lab: JetStream cluster formed\n" << std::flush;
  return {};
}

std::optional<std::string> NatsBroker::current_leader(const LabLayout& layout) const {
  for (int node = 1; node <= layout.node_count(); ++node) {
    auto reply = http_get(layout.node_ip(node), kNatsMonitorPort, "/jsz?accounts=true&streams=true",
                          std::chrono::milliseconds(500));
    if (!reply.ok() || reply->status != 200) continue;
    if (auto leader = stream_leader_from_jsz(reply->body, kStreamName)) return leader;
  }
  return std::nullopt;
}

void NatsBroker::print_status(const LabLayout& layout, std::ostream& out) const {
  out << "broker: nats (JetStream stream " << kStreamName << ")\n";
  out << "nodes:\n";
  for (int node = 1; node <= layout.node_count(); ++node) {
    out << "  " << layout.node_name(node) << "  " << std::left << std::setw(14) << layout.netns(node)
        << std::setw(12) << layout.node_ip(node) << layout.node_host(node) << "  nats :" << kNatsClientPort
        << " cluster :" << kNatsClusterPort << " monitor :" << kNatsMonitorPort << "  agent :" << kAgentPort
        << " metrics :" << kAgentMetricsPort << "\n";
  }
}

void NatsBroker::print_urls(const LabLayout& layout, std::ostream& out) const {
  out << "  nats        " << layout.nats_urls() << "\n";
  out << "  monitoring  http://" << layout.node_ip(1) << ":" << kNatsMonitorPort << "/jsz\n";
}

}  // namespace chaos::lab
