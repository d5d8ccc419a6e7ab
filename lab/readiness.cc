#include "lab/readiness.h"

#include <nlohmann/json.hpp>
#include <sstream>

#include "common/proc_reader.h"
#include "common/toml_reader.h"
#include "common/url_encode.h"
#include "lab/http_check.h"
#include "lab/lab_files.h"

namespace chaos::lab {

Status wait_until(Clock& clock, Duration timeout, const std::string& what, const ReadinessCheck& check) {
  const SteadyTime deadline = clock.steady_now() + timeout;
  Status last = check();
  while (!last.ok()) {
    if (clock.steady_now() >= deadline) {
      return deadline_exceeded(what + ": not ready after " +
                               std::to_string(std::chrono::duration_cast<std::chrono::seconds>(timeout).count()) +
                               " s: " + last.message());
    }
    clock.sleep_until(clock.steady_now() + std::chrono::milliseconds(250));
    last = check();
  }
  return {};
}

namespace {

Status expect_ok(const StatusOr<HttpReply>& reply, const std::string& what) {
  if (!reply.ok()) return reply.status();
  if (reply->status != 200) return unavailable(what + " answered HTTP " + std::to_string(reply->status));
  return {};
}

}  // namespace

Status nats_healthy(const LabLayout& layout, int node) {
  return expect_ok(http_get(layout.node_ip(node), kNatsMonitorPort, "/healthz"),
                   "nats-server " + layout.node_name(node) + " /healthz");
}

Status jetstream_meta_leader(const LabLayout& layout) {
  auto reply = http_get(layout.node_ip(1), kNatsMonitorPort, "/jsz");
  CHAOS_RETURN_IF_ERROR(expect_ok(reply, "nats-server n1 /jsz"));
  const auto json = nlohmann::json::parse(reply->body, nullptr, false);
  if (json.is_object() && json.contains("meta_cluster") && json["meta_cluster"].is_object()) {
    const auto& meta = json["meta_cluster"];
    if (meta.contains("leader") && meta["leader"].is_string() && !meta["leader"].get<std::string>().empty()) {
      return {};
    }
  }
  return unavailable("JetStream meta group has no leader yet");
}

Status agent_serving_metrics(const LabLayout& layout, int node) {
  return expect_ok(http_get(layout.node_ip(node), kAgentMetricsPort, "/metrics"),
                   "chaos-agent " + layout.node_name(node) + " /metrics");
}

std::optional<double> sample_value(const std::string& exposition, const std::string& name) {
  std::istringstream lines(exposition);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.size() > name.size() && line.compare(0, name.size(), name) == 0 && line[name.size()] == ' ') {
      try {
        return std::stod(line.substr(name.size() + 1));
      } catch (const std::exception&) {
        return std::nullopt;
      }
    }
  }
  return std::nullopt;
}

Status probe_publishing(const LabLayout& layout) {
  auto reply = http_get("127.0.0.1", layout.params().probe_port, "/metrics");
  CHAOS_RETURN_IF_ERROR(expect_ok(reply, "chaos-probe /metrics"));
  const auto acked = sample_value(reply->body, "chaos_probe_publish_success_total");
  if (!acked || *acked < 1) return unavailable("chaos-probe has no acknowledged publish yet");
  return {};
}

namespace {

// OK when the instant query `query` returns at least one sample.
Status prometheus_has_result(const LabLayout& layout, const std::string& query, const std::string& missing) {
  auto reply = http_get("127.0.0.1", layout.params().prometheus_port, "/api/v1/query?query=" + url_encode(query));
  CHAOS_RETURN_IF_ERROR(expect_ok(reply, "Prometheus /api/v1/query"));
  const auto json = nlohmann::json::parse(reply->body, nullptr, false);
  if (json.is_object() && json.contains("data") && json["data"].contains("result") &&
      json["data"]["result"].is_array() && !json["data"]["result"].empty()) {
    return {};
  }
  return unavailable(missing);
}

}  // namespace

Status prometheus_scraping_probe(const LabLayout& layout) {
  return prometheus_has_result(layout, "sum(rate(chaos_probe_publish_success_total[5s]))",
                               "Prometheus has no probe samples yet");
}

Status prometheus_scraped_probe_since(const LabLayout& layout, std::int64_t since) {
  const std::string query = "chaos_probe_publish_success_total >= 1 and timestamp(chaos_probe_publish_success_total) > " +
                            std::to_string(since);
  return prometheus_has_result(layout, query, "Prometheus has not scraped the new probe yet");
}

Status probe_in_steady_state(const LabLayout& layout) {
  // The experiments' own steady-state check (>= 99% acked over 10 s), over a
  // full 10 s of samples: a publish that failed while the stream was still
  // electing its first leader must have left the window first.
  const std::string query =
      "(sum(rate(chaos_probe_publish_success_total[10s])) / sum(rate(chaos_probe_publish_attempts_total[10s])) >= 0.99)"
      " and on() (min(count_over_time(chaos_probe_publish_attempts_total[10s])) >= 9)";
  return prometheus_has_result(layout, query, "the probe has not had 10 s of >= 99% acked publishes yet");
}

Status inventory_labels_a_leader(const LabLayout& layout, const std::string& label) {
  // kMaxConfigBytes + 1: a larger inventory is one chaosctl refuses anyway.
  const auto text = read_bounded(layout.inventory_path(), kMaxConfigBytes + 1);
  if (text && text->find(inventory_leader_label(label, true)) != std::string::npos) return {};
  return unavailable(layout.inventory_path() + " labels no node " + label + " yet");
}

}  // namespace chaos::lab
