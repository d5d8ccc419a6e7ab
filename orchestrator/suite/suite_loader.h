// Reads a suite file:
//   [suite]   title, settle_timeout, settle_interval, fail_fast
//   [[run]]   file (required, relative to the suite file), and the
//             overrides inventory, prometheus, settle_timeout
// Errors are "file:line:col: message" like the experiment loader's.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"
#include "orchestrator/suite/suite.h"

namespace chaos::orchestrator {

StatusOr<Suite> load_suite(const std::string& path);

// True when `path` is a TOML file with a top-level [suite] table, so
// `chaosctl run game-day.toml` needs no --suite. Anything else (including a
// file that does not parse) is left to the experiment loader.
bool is_suite_file(const std::string& path);

// The suite `chaosctl run A.toml B.toml` means: defaults, one entry per file.
Suite suite_of_files(const std::vector<std::string>& files);

}  // namespace chaos::orchestrator
