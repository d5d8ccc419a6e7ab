#include "orchestrator/notify/notify_payload.h"

#include "common/duration.h"
#include "common/rfc3339.h"

namespace chaos::orchestrator {

namespace {

long long notify_epoch_ms(WallTime time) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(time.time_since_epoch()).count();
}

nlohmann::json notify_seconds(const std::optional<std::chrono::nanoseconds>& duration) {
  if (!duration) return nullptr;
  return std::chrono::duration<double>(*duration).count();
}

// "Kill both (kill-both-1a2b): violated (exit 1): ratio failed"
std::string notify_summary(const NotifyEvent& event) {
  std::string text = "chaos: " + event.experiment + " (" + event.experiment_id + ") ";
  if (event.event == "start") return text + "started";
  if (event.event == "abort") return text + "aborting: " + event.message;
  if (event.outcome == nullptr) return text + event.event + ": " + event.message;
  const RunOutcome& outcome = *event.outcome;
  text += std::string(verdict_name(outcome.verdict)) + " (exit " + std::to_string(exit_code(outcome.verdict)) +
          "): " + outcome.reason;
  if (outcome.time_to_detect) {
    text += "; time to detect " + format_duration(*outcome.time_to_detect);
    if (!outcome.detected_by.empty()) text += " (" + outcome.detected_by + ")";
  }
  if (outcome.time_to_recovery) text += "; time to recovery " + format_duration(*outcome.time_to_recovery);
  if (!event.report.empty()) text += "; report " + event.report;
  return text;
}

}  // namespace

nlohmann::json webhook_json(const NotifyEvent& event) {
  nlohmann::json body = {{"schema", "chaos.notify/v1"},  {"event", event.event},
                         {"experiment", event.experiment}, {"experiment_id", event.experiment_id},
                         {"file", event.file},             {"at", format_rfc3339(event.at)},
                         {"message", event.message}};
  if (event.outcome != nullptr) {
    const RunOutcome& outcome = *event.outcome;
    body["verdict"] = verdict_name(outcome.verdict);
    body["exit_code"] = exit_code(outcome.verdict);
    body["reason"] = outcome.reason;
    body["failed_checks"] = outcome.failed_checks;
    body["aborted_by"] = outcome.aborted_by;
    body["time_to_recovery_seconds"] = notify_seconds(outcome.time_to_recovery);
    body["time_to_detect_seconds"] = notify_seconds(outcome.time_to_detect);
    body["detected_by"] = outcome.detected_by.empty() || !outcome.time_to_detect
                              ? nlohmann::json(nullptr)
                              : nlohmann::json{{"name", outcome.detected_by}, {"kind", outcome.detected_by_kind}};
    body["report"] = event.report.empty() ? nlohmann::json(nullptr) : nlohmann::json(event.report);
  }
  return body;
}

namespace {

// Slack reads "<...>" in a message's text as a link or a mention
// ("<!channel>"), and requires &, < and > escaped: a title or a query's
// error text must not ping a channel or turn into a link.
std::string slack_escape(const std::string& text) {
  std::string escaped;
  for (char c : text) {
    switch (c) {
      case '&': escaped += "&amp;"; break;
      case '<': escaped += "&lt;"; break;
      case '>': escaped += "&gt;"; break;
      default: escaped += c;
    }
  }
  return escaped;
}

}  // namespace

nlohmann::json slack_json(const NotifyEvent& event) { return {{"text", slack_escape(notify_summary(event))}}; }

nlohmann::json grafana_fault_annotation(const FaultRecord& fault, const std::string& experiment_id,
                                        const std::string& dashboard_uid, WallTime run_end) {
  nlohmann::json body = {
      {"time", notify_epoch_ms(fault.applied_at)},
      {"timeEnd", notify_epoch_ms(fault.reverted_at.value_or(run_end))},
      {"tags", {"chaos", experiment_id, fault.kind, fault.node}},
      {"text", fault.kind + " (" + fault.step + ") on " + fault.node + " [" + fault.agent + "], fault " +
                   fault.fault_id + (fault.revert_reason.empty() ? "" : ", ended: " + fault.revert_reason)}};
  if (!dashboard_uid.empty()) body["dashboardUID"] = dashboard_uid;
  return body;
}

nlohmann::json grafana_verdict_annotation(const NotifyEvent& verdict, WallTime run_start,
                                          const std::string& dashboard_uid) {
  const std::string name = verdict.outcome != nullptr ? verdict_name(verdict.outcome->verdict) : "unknown";
  nlohmann::json body = {{"time", notify_epoch_ms(run_start)},
                         {"timeEnd", notify_epoch_ms(verdict.at)},
                         {"tags", {"chaos", verdict.experiment_id, "verdict", name}},
                         {"text", notify_summary(verdict)}};
  if (!dashboard_uid.empty()) body["dashboardUID"] = dashboard_uid;
  return body;
}

}  // namespace chaos::orchestrator
