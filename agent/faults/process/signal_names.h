// Signal names as experiments write them: "KILL", "SIGTERM", "int".
#pragma once

#include <string>

#include "common/status.h"

namespace chaos::agent {

// The signal number for a name with or without "SIG", any case; empty means
// SIGKILL. Stop/continue signals are refused: a stopped process must be
// resumed on revert, which is process.pause's job.
StatusOr<int> parse_kill_signal(const std::string& name, const std::string& field);

// "SIGKILL" for 9.
std::string signal_display_name(int signal);

}  // namespace chaos::agent
