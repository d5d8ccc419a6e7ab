// Time from an SLO breach to the abort and to every fault reverted, computed
// from a `chaosctl run` journal.json (chaos.journal/v1): the breach is the
// first during-phase abort evaluation whose condition held, the abort the
// first "abort" event, all-reverted the latest faults[].reverted_at.
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "common/status.h"

namespace chaos::bench {

// Milliseconds since the epoch of "2026-11-23T13:04:48.123Z".
std::optional<long long> parse_rfc3339_ms(const std::string& text);

struct BreachTiming {
  double inject_to_breach_seen_s = 0;   // first fault applied -> breach observed
  double breach_to_abort_s = 0;
  double abort_to_all_reverted_s = 0;
  double breach_to_all_reverted_s = 0;
  int faults = 0;
  std::string verdict;
};

StatusOr<BreachTiming> breach_timing(const nlohmann::json& journal);
nlohmann::json to_json(const BreachTiming& timing);

}  // namespace chaos::bench
