// chaosctl's subcommands. Each add_*_command registers one subcommand whose
// callback stores the process exit code in `exit_code` (exit_codes.h).
#pragma once

#include <CLI/CLI.hpp>

namespace chaos::orchestrator {

void add_run_command(CLI::App& app, int& exit_code);
void add_report_command(CLI::App& app, int& exit_code);
void add_validate_command(CLI::App& app, int& exit_code);
void add_inject_command(CLI::App& app, int& exit_code);
void add_revert_command(CLI::App& app, int& exit_code);
void add_faults_command(CLI::App& app, int& exit_code);
void add_halt_command(CLI::App& app, int& exit_code);
void add_agents_command(CLI::App& app, int& exit_code);
void add_certs_command(CLI::App& app, int& exit_code);
void add_inventory_command(CLI::App& app, int& exit_code);
void add_history_command(CLI::App& app, int& exit_code);

}  // namespace chaos::orchestrator
