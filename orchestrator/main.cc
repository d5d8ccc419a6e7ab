// chaosctl: the orchestrator. Runs TOML experiments against agents and
// Prometheus, and offers ad-hoc commands for game days. Each subcommand
// lives in orchestrator/commands/ and sets the exit code.
#include <csignal>
#include <exception>
#include <iostream>
#include <string>

#include <CLI/CLI.hpp>

#include "common/abseil_lock_tracking.h"
#include "common/version.h"
#include "orchestrator/commands/commands.h"
#include "orchestrator/commands/lab_command.h"
#include "orchestrator/commands/exit_codes.h"
#include "orchestrator/commands/prometheus_discovery.h"

namespace {

int run_chaosctl(int argc, char** argv) {
  CLI::App app{"chaosctl: runs chaos experiments against a messaging cluster and reports "
               "an SLO verdict."};
  app.set_version_flag("--version", std::string("chaosctl ") + chaos::kVersion);
  app.require_subcommand(1);
  app.footer(chaos::orchestrator::exit_codes_help());

  int exit_code = 0;
  namespace orch = chaos::orchestrator;
  orch::install_prometheus_discovery();
  orch::add_run_command(app, exit_code);
  orch::add_report_command(app, exit_code);
  orch::add_validate_command(app, exit_code);
  orch::add_inject_command(app, exit_code);
  orch::add_revert_command(app, exit_code);
  orch::add_faults_command(app, exit_code);
  orch::add_halt_command(app, exit_code);
  orch::add_agents_command(app, exit_code);
  orch::add_certs_command(app, exit_code);
  orch::add_inventory_command(app, exit_code);
  orch::add_history_command(app, exit_code);
  orch::add_lab_command(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::RuntimeError& error) {
    return error.get_exit_code();  // a command's own code (the lab's)
  } catch (const CLI::ParseError& error) {
    // CLI11 gives each kind of usage error its own code; chaosctl has one.
    // --help and --version exit 0.
    const int code = app.exit(error);
    return code == 0 ? 0 : chaos::orchestrator::kExitUsage;
  }
  return exit_code;
}

}  // namespace

int main(int argc, char** argv) {
  chaos::skip_abseil_lock_order_tracking();  // a fan-out to 1,000 agents takes many locks
  // `chaosctl run ... | tee run.log` and Ctrl-C: tee exits first, and the
  // next progress line would raise SIGPIPE and kill chaosctl before it
  // reverts its faults. Ignored, a write to the gone reader just fails.
  std::signal(SIGPIPE, SIG_IGN);
  // Never std::terminate (no message, SIGABRT, exit 134): a run has already
  // reverted its faults on the way out, and CI must see "error" (3).
  try {
    return run_chaosctl(argc, argv);
  } catch (const std::exception& error) {
    std::cerr << "chaosctl: internal error: " << error.what() << "\n";
  } catch (...) {
    std::cerr << "chaosctl: internal error: unknown exception\n";
  }
  return chaos::orchestrator::kExitError;
}
