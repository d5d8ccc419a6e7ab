// `chaosctl history` output: a text table for people, JSON for scripts.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "orchestrator/history/history_entry.h"

namespace chaos::orchestrator::history {

// One line per run, newest first:
// "2026-12-02 17:00:01  held      4.2 s   1 s     1  kill one broker  kill-one-broker-2026...".
// Control characters in titles and reasons are shown as '?'.
std::string format_history_text(const std::vector<HistoryEntry>& entries);

// {"runs": [{experiment_id, title, file, file_sha256, started_at, finished_at
// (RFC 3339), verdict, exit_code, reason, time_to_recovery_seconds,
// time_to_detect_seconds (null when not measured), detected_by ({name, kind}
// or null), report_dir, slo_worst,
// faults, leftovers}]}
nlohmann::json history_to_json(const std::vector<HistoryEntry>& entries);

}  // namespace chaos::orchestrator::history
