// `chaosctl lab up|down|status`: the embedded NATS lab.
#pragma once

#include <CLI/CLI.hpp>

namespace chaos::lab {

// Adds the `lab` subcommand (and its children) to chaosctl.
void add_lab_command(CLI::App& app);

}  // namespace chaos::lab
