// The bodies chaosctl sends (pure, so tests check them without a network).
//
// Webhook "json" (schema "chaos.notify/v1"): event ("start", "abort",
// "verdict"), experiment (title), experiment_id, file, at (RFC 3339),
// message; for "verdict" also verdict, exit_code, reason, failed_checks,
// aborted_by, time_to_recovery_seconds, time_to_detect_seconds (null when
// not measured), detected_by ({name, kind}: the check that saw the fault
// first; null without a time to detect) and report (path of report.html, null without
// --report-dir). Webhook "slack": {"text": one line}.
// Grafana (POST /api/annotations): time and timeEnd in ms since the epoch,
// tags, text, dashboardUID when configured.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/clock.h"
#include "orchestrator/run/run_journal.h"
#include "orchestrator/run/run_outcome.h"

namespace chaos::orchestrator {

struct NotifyEvent {
  std::string event;  // "start", "abort", "verdict"
  std::string experiment;
  std::string experiment_id;
  std::string file;
  WallTime at;
  std::string message;
  const RunOutcome* outcome = nullptr;  // "verdict" only
  std::string report;                   // report.html, when written
};

nlohmann::json webhook_json(const NotifyEvent& event);
nlohmann::json slack_json(const NotifyEvent& event);

// A region over one fault's window, from its inject to its revert (or
// `run_end` when no revert was recorded); tags chaos, the experiment id,
// the fault kind and the node.
nlohmann::json grafana_fault_annotation(const FaultRecord& fault, const std::string& experiment_id,
                                        const std::string& dashboard_uid, WallTime run_end);
// A region over the whole run; tags chaos, the experiment id, "verdict" and
// the verdict's name.
nlohmann::json grafana_verdict_annotation(const NotifyEvent& verdict, WallTime run_start,
                                          const std::string& dashboard_uid);

}  // namespace chaos::orchestrator
