// `chaosctl lab ...`: runs chaos-lab from chaosctl's directory with the same
// arguments. chaosctl itself links no lab code.
#pragma once

#include <CLI/CLI.hpp>

namespace chaos::orchestrator {

void add_lab_command(CLI::App& app);

}  // namespace chaos::orchestrator
