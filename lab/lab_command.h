// `chaos-lab up|down|status|probe`: the embedded NATS lab's commands.
#pragma once

#include <CLI/CLI.hpp>

namespace chaos::lab {

// chaos-lab's exit codes (the same numbers as chaosctl's, which passes them
// through for `chaosctl lab`).
constexpr int kLabExitOk = 0;
constexpr int kLabExitNotUp = 1;  // the lab is down or partly up (also: `up` could not bring it up)
constexpr int kLabExitError = 3;
constexpr int kLabExitUsage = 4;  // bad flags or arguments; nothing was touched

// Adds up, down, status, probe and the hidden supervise to `lab` (chaos-lab's app).
void add_lab_commands(CLI::App& lab);

}  // namespace chaos::lab
