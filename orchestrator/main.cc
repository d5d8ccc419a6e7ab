// chaosctl: the orchestrator. Runs TOML experiments against agents and
// Prometheus, and offers ad-hoc commands for game days.
#include <iostream>
#include <string>

#include <CLI/CLI.hpp>

#include "common/version.h"
#include "lab/lab_command.h"

int main(int argc, char** argv) {
  CLI::App app{"chaosctl: runs chaos experiments against a messaging cluster and reports "
               "an SLO verdict."};
  app.set_version_flag("--version", std::string("chaosctl ") + chaos::kVersion);
  app.require_subcommand(1);

  chaos::lab::add_lab_command(app);
  CLI11_PARSE(app, argc, argv);
  return 0;
}
