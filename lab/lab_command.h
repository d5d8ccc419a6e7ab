// `chaos-lab up|down|status`: the embedded NATS lab's commands.
#pragma once

#include <CLI/CLI.hpp>

namespace chaos::lab {

// Adds up, down, status and the hidden supervise to `lab` (chaos-lab's app).
void add_lab_commands(CLI::App& lab);

}  // namespace chaos::lab
