// A suite: experiments run one after another in one `chaosctl run`, each
// after the previous one's aftermath has settled (see suite_run.h). Written
// as a suite file (suite_loader.h, format in experiments/README.md) or as
// several experiment files on the command line.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace chaos::orchestrator {

// Bounds on what a suite file or the command line may ask for.
inline constexpr size_t kSuiteMaxExperiments = 100;
inline constexpr std::chrono::nanoseconds kSuiteMaxSettleTimeout = std::chrono::hours(1);
inline constexpr std::chrono::nanoseconds kSuiteMinSettleInterval = std::chrono::milliseconds(100);
inline constexpr std::chrono::nanoseconds kSuiteDefaultSettleTimeout = std::chrono::minutes(2);
inline constexpr std::chrono::nanoseconds kSuiteDefaultSettleInterval = std::chrono::seconds(5);

struct SuiteEntry {
  std::string file;  // the experiment TOML (resolved against the suite file)
  // Per-entry overrides of what the experiment file says.
  std::optional<std::string> inventory;
  std::optional<std::string> prometheus;
  std::optional<std::chrono::nanoseconds> settle_timeout;
};

struct Suite {
  std::string source_path;  // empty for experiments named on the command line
  std::string title;
  std::chrono::nanoseconds settle_timeout = kSuiteDefaultSettleTimeout;
  std::chrono::nanoseconds settle_interval = kSuiteDefaultSettleInterval;
  bool fail_fast = false;  // default: keep going, every experiment gets its verdict
  std::vector<SuiteEntry> entries;
};

}  // namespace chaos::orchestrator
